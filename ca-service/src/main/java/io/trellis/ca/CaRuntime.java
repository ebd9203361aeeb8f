package io.trellis.ca;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.ShutdownEvent;
import io.trellis.ca.backend.BuiltinRootStore;
import io.trellis.ca.backend.VaultBackendFactory;
import io.trellis.ca.kubernetes.KubernetesRootStore;
import io.trellis.ca.kubernetes.KumaSecretsInformer;
import io.trellis.ca.vault.VaultBackends;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Owns the {@link MeshCaRegistry} and the thread its backends load on. In Kubernetes mode
 * ({@code trellis.ca.kubernetes.enabled}) builtin roots live in Secrets of the control-plane
 * namespace and Kuma Secrets are read from there too; otherwise roots are files in the data directory.
 */
@ApplicationScoped
public class CaRuntime {
  private static final Logger LOG = Logger.getLogger(CaRuntime.class);
  private final ScheduledExecutorService loader = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ca-backend-loader");
    t.setDaemon(true);
    return t;
  });
  private final MeshCaRegistry registry;
  private final KumaSecretsInformer kumaSecrets;
  private final String rootStore;

  @Inject
  public CaRuntime(@ConfigProperty(name = "trellis.data-dir") Path dataDir,
      @ConfigProperty(name = "trellis.ca.max-backoff", defaultValue = "30s") Duration maxBackoff,
      @ConfigProperty(name = "trellis.ca.vault.timeout", defaultValue = "10s") Duration vaultTimeout,
      @ConfigProperty(name = "trellis.ca.kubernetes.enabled", defaultValue = "false") boolean kubernetes,
      @ConfigProperty(name = "trellis.ca.kubernetes.namespace") Optional<String> namespace,
      Instance<KubernetesClient> kubernetesClient,
      CaMetrics metrics) {
    VaultBackendFactory vault = new VaultBackends(vaultTimeout, metrics);
    if (kubernetes) {
      KubernetesClient client = kubernetesClient.get();
      // in a pod the client knows its own namespace (service account mount): the control plane's
      String ns = namespace.filter(n -> !n.isBlank())
          .orElseGet(() -> client.getNamespace() == null ? "trellis-system" : client.getNamespace());
      this.rootStore = "Kubernetes Secrets in namespace " + ns;
      this.registry = new MeshCaRegistry(new KubernetesRootStore(client, ns), vault, loader, metrics, maxBackoff);
      registry.expectKubernetesSecrets();
      this.kumaSecrets = new KumaSecretsInformer(client, ns, registry::applyKubernetesSecrets);
    } else {
      this.rootStore = "files under " + dataDir.resolve("ca");
      this.registry = new MeshCaRegistry(BuiltinRootStore.files(dataDir), vault, loader, metrics, maxBackoff);
      this.kumaSecrets = null;
    }
    LOG.infof("builtin CA roots: %s", rootStore);
  }

  public MeshCaRegistry registry() {
    return registry;
  }

  void stop(@Observes ShutdownEvent event) {
    if (kumaSecrets != null) {
      kumaSecrets.close();
    }
    loader.shutdownNow();
    registry.close();
  }
}
