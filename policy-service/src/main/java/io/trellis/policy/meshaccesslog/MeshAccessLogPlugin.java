package io.trellis.policy.meshaccesslog;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshAccessLog: backends per inbound (from) and outbound (to), merged with the common rules. */
public final class MeshAccessLogPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_ACCESS_LOG;
  }
}
