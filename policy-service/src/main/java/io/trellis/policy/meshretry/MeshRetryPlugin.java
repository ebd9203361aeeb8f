package io.trellis.policy.meshretry;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshRetry: retry policies per destination (to). */
public final class MeshRetryPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_RETRY;
  }
}
