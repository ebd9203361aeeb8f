package io.trellis.api.model;

/** A new-style (targetRef) policy spec. */
public sealed interface PolicySpec extends Spec
    permits MeshTrafficPermissionSpec,
        MeshHttpRouteSpec,
        MeshTcpRouteSpec,
        MeshTimeoutSpec,
        MeshRetrySpec,
        MeshCircuitBreakerSpec,
        MeshHealthCheckSpec,
        MeshRateLimitSpec,
        MeshFaultInjectionSpec,
        MeshAccessLogSpec,
        MeshGatewayKeyAuthSpec {

  /**
   * The top-level targetRef (which proxies the policy configures); {@code null} means the whole
   * mesh.
   */
  TargetRef targetRef();
}
