package io.trellis.policy.meshcircuitbreaker;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshCircuitBreaker: connection limits and outlier detection per destination. */
public final class MeshCircuitBreakerPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_CIRCUIT_BREAKER;
  }
}
