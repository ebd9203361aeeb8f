package io.trellis.policy.meshhealthcheck;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshHealthCheck: active health checks per destination (to). */
public final class MeshHealthCheckPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_HEALTH_CHECK;
  }
}
