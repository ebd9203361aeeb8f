package io.trellis.xds;

import io.grpc.ConnectivityState;
import io.trellis.xds.auth.VerificationKeysWatcher;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only when both dependencies are reachable: ca-service has delivered the token verification keys
 * (without them every proxy would be refused) and the channel to policy-service is connected.
 */
@Readiness
@ApplicationScoped
public class DependencyReadiness implements HealthCheck {
  private final Upstreams upstreams;
  private final VerificationKeysWatcher keys;

  public DependencyReadiness(Upstreams upstreams, VerificationKeysWatcher keys) {
    this.upstreams = upstreams;
    this.keys = keys;
  }

  @Override
  public HealthCheckResponse call() {
    ConnectivityState policy = upstreams.policy().getState(true);
    boolean caSynced = keys.verifier().synced();
    return HealthCheckResponse.named("xds-service-dependencies")
        .status(policy == ConnectivityState.READY && caSynced)
        .withData("policy-service", policy.name())
        .withData("ca-service", caSynced ? "verification keys synced" : "waiting for verification keys")
        .build();
  }
}
