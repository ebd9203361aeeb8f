package io.trellis.policy.meshfaultinjection;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/** MeshFaultInjection: faults injected on inbound traffic from the selected clients. */
public final class MeshFaultInjectionPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_FAULT_INJECTION;
  }
}
