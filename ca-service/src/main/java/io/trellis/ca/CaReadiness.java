package io.trellis.ca;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** DOWN until the Meshes are known and each of their backends has loaded (or failed for good). */
@Readiness
@ApplicationScoped
public class CaReadiness implements HealthCheck {
  @Inject
  CaRuntime runtime;

  @Override
  public HealthCheckResponse call() {
    Map<String, String> pending = runtime.registry().notReady();
    HealthCheckResponseBuilder b = HealthCheckResponse.named("ca-backends").status(pending.isEmpty())
        .withData("meshes", runtime.registry().meshes().size());
    pending.forEach(b::withData);
    return b.build();
  }
}
