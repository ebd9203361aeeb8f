package io.trellis.xds;

import io.grpc.ConnectivityState;
import io.trellis.xds.auth.ProxyAuthenticators;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only when both dependencies are reachable: the channels to policy-service and ca-service are
 * connected and ca-service has delivered the token verification keys (without them every proxy would be
 * refused). Going DOWN only takes xds-service out of rotation for new proxies: connected ones keep the
 * config they have (see {@link ProxySession}).
 */
@Readiness
@ApplicationScoped
public class DependencyReadiness implements HealthCheck {
  private final Upstreams upstreams;
  private final ProxyAuthenticators auth;

  public DependencyReadiness(Upstreams upstreams, ProxyAuthenticators auth) {
    this.upstreams = upstreams;
    this.auth = auth;
  }

  @Override
  public HealthCheckResponse call() {
    ConnectivityState policy = upstreams.policy().getState(true);
    ConnectivityState ca = upstreams.ca().getState(true);
    boolean caSynced = auth.get().ready();
    return HealthCheckResponse.named("xds-service-dependencies")
        .status(policy == ConnectivityState.READY && ca == ConnectivityState.READY && caSynced)
        .withData("policy-service", policy.name())
        .withData("ca-service", ca.name() + ", " + auth.get().state())
        .build();
  }
}
