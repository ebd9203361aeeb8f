package io.trellis.policy.service;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.policy.kubernetes.KubernetesResourceStore;
import io.trellis.policy.store.JdbcResourceStore;
import io.trellis.policy.store.ResourceStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Chooses the store by {@code trellis.store.type} (embedded | postgres | kubernetes), see docs/adr/0002. */
@ApplicationScoped
public class StoreProducer {
  @ConfigProperty(name = "trellis.store.type", defaultValue = "embedded")
  String type;

  @ConfigProperty(name = "trellis.data-dir")
  String dataDir;

  /** Overrides the embedded file location (tests use an in-memory H2). */
  @ConfigProperty(name = "trellis.store.embedded.url")
  Optional<String> embeddedUrl;

  @ConfigProperty(name = "trellis.store.postgres.url")
  Optional<String> pgUrl;

  @ConfigProperty(name = "trellis.store.postgres.user", defaultValue = "trellis")
  String pgUser;

  @ConfigProperty(name = "trellis.store.postgres.password")
  Optional<String> pgPassword;

  /** Where Kuma keeps mesh-wide objects (Secrets) on Kubernetes. */
  @ConfigProperty(name = "trellis.kubernetes.system-namespace", defaultValue = "kuma-system")
  String systemNamespace;

  /** Resolved only in Kubernetes mode: elsewhere no client (and no kubeconfig lookup) is created. */
  @Inject Instance<KubernetesClient> kubernetes;

  @Produces
  @Singleton
  ResourceCodec codec() {
    return new ResourceCodec();
  }

  @Produces
  @Singleton
  ResourceStore store(ResourceCodec codec) {
    return switch (type) {
      case "embedded" -> embeddedUrl.isPresent()
          ? JdbcResourceStore.open(embeddedUrl.get(), "sa", "", null, codec)
          : JdbcResourceStore.embedded(Path.of(dataDir), codec);
      case "postgres" -> JdbcResourceStore.open(pgUrl.orElseThrow(() -> new IllegalStateException(
          "trellis.store.postgres.url: missing (expected: jdbc:postgresql://host:5432/db)")), pgUser, pgPassword.orElse(""),
          null, codec);
      case "kubernetes" -> KubernetesResourceStore.start(kubernetes.get(), codec, systemNamespace);
      default -> throw new IllegalStateException(
          "trellis.store.type: " + type + " (expected: embedded, postgres or kubernetes)");
    };
  }

  void close(@Disposes ResourceStore store) {
    store.close();
  }
}
