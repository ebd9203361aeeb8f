package io.trellis.policy.service;

import io.trellis.policy.store.ResourceStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * DOWN until every resource has been loaded from the store into the matching cache and the store's own view is
 * complete (on Kubernetes: every informer has synced).
 */
@Readiness
@ApplicationScoped
public class StoreReadiness implements HealthCheck {
  @Inject ResourceCache cache;
  @Inject ResourceStore store;

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("policy-store-loaded").status(cache.loaded() && store.synced()).build();
  }
}
