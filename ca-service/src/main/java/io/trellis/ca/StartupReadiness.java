package io.trellis.ca;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness baseline of ca-service: DOWN until the application has finished starting. Components that
 * own caches or dependencies add their own {@code @Readiness} checks (all must be UP).
 */
@Readiness
@ApplicationScoped
public class StartupReadiness implements HealthCheck {
  private final AtomicBoolean started = new AtomicBoolean();

  void onStart(@Observes StartupEvent event) {
    started.set(true);
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("ca-service-started").status(started.get()).build();
  }
}
