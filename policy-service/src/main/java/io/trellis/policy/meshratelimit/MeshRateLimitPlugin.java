package io.trellis.policy.meshratelimit;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshRateLimit: local rate limits on inbound traffic, per client subset. */
public final class MeshRateLimitPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_RATE_LIMIT;
  }
}
