package io.trellis.policy.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.trellis.policy.store.ResourceStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Runs the Pod → Dataplane controller when the store is Kubernetes; readiness is DOWN until it has reconciled
 * every pod present at start. Outside Kubernetes mode this does nothing and is always UP.
 */
@Readiness
@ApplicationScoped
public class KubernetesMode implements HealthCheck {
  @Inject ResourceStore store;
  @Inject Instance<KubernetesClient> client;

  @ConfigProperty(name = "trellis.kubernetes.controllers.enabled", defaultValue = "true")
  boolean controllersEnabled;

  private volatile PodDataplaneController controller;

  void onStart(@Observes StartupEvent event) {
    if (store instanceof KubernetesResourceStore kubernetesStore && controllersEnabled) {
      controller = PodDataplaneController.start(client.get(), kubernetesStore);
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    if (controller != null) {
      controller.close();
    }
  }

  @Override
  public HealthCheckResponse call() {
    boolean kubernetes = store instanceof KubernetesResourceStore;
    boolean up = !kubernetes || !controllersEnabled || (controller != null && controller.synced());
    return HealthCheckResponse.named("kubernetes-controllers").status(up).build();
  }
}
