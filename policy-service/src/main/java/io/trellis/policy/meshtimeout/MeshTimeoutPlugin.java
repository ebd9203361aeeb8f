package io.trellis.policy.meshtimeout;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshTimeout: connection and HTTP timeouts, inbound (from) and outbound (to). */
public final class MeshTimeoutPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_TIMEOUT;
  }
}
