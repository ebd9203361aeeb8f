package io.trellis.policy.matching;

import io.trellis.api.model.ResourceType;
import io.trellis.policy.meshaccesslog.MeshAccessLogPlugin;
import io.trellis.policy.meshcircuitbreaker.MeshCircuitBreakerPlugin;
import io.trellis.policy.meshfaultinjection.MeshFaultInjectionPlugin;
import io.trellis.policy.meshhealthcheck.MeshHealthCheckPlugin;
import io.trellis.policy.meshhttproute.MeshHttpRoutePlugin;
import io.trellis.policy.meshratelimit.MeshRateLimitPlugin;
import io.trellis.policy.meshretry.MeshRetryPlugin;
import io.trellis.policy.meshtcproute.MeshTcpRoutePlugin;
import io.trellis.policy.meshtimeout.MeshTimeoutPlugin;
import io.trellis.policy.meshtrafficpermission.MeshTrafficPermissionPlugin;
import java.util.List;
import java.util.Optional;

/** Every policy type with targetRef rules, in the order their results are listed (Kuma applies plugins in order). */
public final class PolicyPlugins {
  public static final List<PolicyPlugin> ALL = List.of(
      new MeshTrafficPermissionPlugin(),
      new MeshAccessLogPlugin(),
      new MeshFaultInjectionPlugin(),
      new MeshRateLimitPlugin(),
      new MeshTimeoutPlugin(),
      new MeshRetryPlugin(),
      new MeshCircuitBreakerPlugin(),
      new MeshHealthCheckPlugin(),
      new MeshHttpRoutePlugin(),
      new MeshTcpRoutePlugin());

  private PolicyPlugins() {}

  public static Optional<PolicyPlugin> of(ResourceType type) {
    return ALL.stream().filter(p -> p.type() == type).findFirst();
  }
}
