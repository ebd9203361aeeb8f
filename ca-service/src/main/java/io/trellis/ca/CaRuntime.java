package io.trellis.ca;

import io.quarkus.runtime.ShutdownEvent;
import io.trellis.ca.backend.VaultBackendFactory;
import io.trellis.ca.vault.VaultBackends;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Owns the {@link MeshCaRegistry} and the thread its backends load on. */
@ApplicationScoped
public class CaRuntime {
  private final ScheduledExecutorService loader = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ca-backend-loader");
    t.setDaemon(true);
    return t;
  });
  private final MeshCaRegistry registry;

  @Inject
  public CaRuntime(@ConfigProperty(name = "trellis.data-dir") Path dataDir,
      @ConfigProperty(name = "trellis.ca.max-backoff", defaultValue = "30s") Duration maxBackoff,
      @ConfigProperty(name = "trellis.ca.vault.timeout", defaultValue = "10s") Duration vaultTimeout,
      CaMetrics metrics) {
    VaultBackendFactory vault = new VaultBackends(vaultTimeout, metrics);
    this.registry = new MeshCaRegistry(dataDir, vault, loader, metrics, maxBackoff);
  }

  public MeshCaRegistry registry() {
    return registry;
  }

  void stop(@Observes ShutdownEvent event) {
    loader.shutdownNow();
    registry.close();
  }
}
