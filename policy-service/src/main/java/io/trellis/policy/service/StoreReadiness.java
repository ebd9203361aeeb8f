package io.trellis.policy.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** DOWN until every resource has been loaded from the store into the matching cache. */
@Readiness
@ApplicationScoped
public class StoreReadiness implements HealthCheck {
  @Inject ResourceCache cache;

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("policy-store-loaded").status(cache.loaded()).build();
  }
}
