package io.trellis.injector;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Namespaces as the webhook needs them (their {@code kuma.io/sidecar-injection} and {@code kuma.io/mesh}), from an
 * informer instead of one GET per admitted pod, like Kuma's cached controller-runtime client. A namespace the
 * informer has not seen (not synced yet, or created a moment ago) is read from the API server; if that fails the
 * caller refuses the pod (fail closed).
 */
@ApplicationScoped
public class NamespaceCache {
  private static final Logger LOG = Logger.getLogger(NamespaceCache.class);

  private final KubernetesClient client;
  private volatile SharedIndexInformer<Namespace> informer;

  @Inject
  public NamespaceCache(KubernetesClient client) {
    this.client = client;
  }

  void start(@Observes StartupEvent event) {
    start();
  }

  /** Starts the informer and returns at once; failures are retried with back-off by fabric8. */
  public void start() {
    SharedIndexInformer<Namespace> i = client.namespaces().runnableInformer(0);
    i.exceptionHandler((started, error) -> {
      LOG.warnf("watching namespaces failed (%s); retrying, reading namespaces directly meanwhile", error.toString());
      return true;
    });
    informer = i;
    i.start();
  }

  public boolean synced() {
    SharedIndexInformer<Namespace> i = informer;
    return i != null && i.hasSynced();
  }

  /** The namespace, or null when it does not exist; throws when it can be neither found cached nor read. */
  public Namespace get(String name) {
    SharedIndexInformer<Namespace> i = informer;
    if (i != null && i.hasSynced()) {
      Namespace cached = i.getStore().getByKey(name);
      if (cached != null) {
        return cached;
      }
    }
    return client.namespaces().withName(name).get();
  }

  void stop(@Observes ShutdownEvent event) {
    SharedIndexInformer<Namespace> i = informer;
    if (i != null) {
      i.close();
    }
  }
}
