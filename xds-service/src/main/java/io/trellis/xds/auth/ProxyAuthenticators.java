package io.trellis.xds.auth;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Picks the proxy authentication of this deployment: {@code trellis.xds.auth.mode=dataplane-token}
 * (default; tokens signed by ca-service) or {@code kubernetes} (ServiceAccount tokens via TokenReview).
 * The Kubernetes client is only created in Kubernetes mode.
 */
@ApplicationScoped
public class ProxyAuthenticators {
  private final ProxyAuthenticator authenticator;
  private final ExecutorService blocking;

  public ProxyAuthenticators(
      @ConfigProperty(name = "trellis.xds.auth.mode", defaultValue = "dataplane-token") String mode,
      @ConfigProperty(name = "trellis.xds.auth.kubernetes.audiences") Optional<List<String>> audiences,
      @ConfigProperty(name = "trellis.xds.auth.kubernetes.token-cache-ttl", defaultValue = "60s") java.time.Duration tokenCacheTtl,
      VerificationKeysWatcher keys, Instance<KubernetesClient> kubernetes) {
    switch (mode) {
      case "dataplane-token" -> {
        blocking = null;
        authenticator = new ProxyAuthenticator() {
          @Override
          public CompletionStage<Void> authenticate(String token, io.trellis.xds.ProxyRef proxy) {
            try {
              keys.verifier().verify(token, proxy);
              return CompletableFuture.completedFuture(null);
            } catch (RuntimeException e) {
              return CompletableFuture.failedFuture(e);
            }
          }

          @Override
          public boolean ready() {
            return keys.verifier().synced();
          }

          @Override
          public String state() {
            return keys.verifier().synced() ? "verification keys synced" : "waiting for verification keys";
          }
        };
      }
      case "kubernetes" -> {
        // TokenReview and pod reads are blocking HTTP calls: never on the gRPC event loop.
        blocking = Executors.newFixedThreadPool(4, r -> {
          Thread t = new Thread(r, "trellis-xds-tokenreview");
          t.setDaemon(true);
          return t;
        });
        authenticator = new ServiceAccountTokenAuthenticator(kubernetes.get(), audiences.orElse(List.of()), blocking,
            tokenCacheTtl);
      }
      default -> throw new IllegalArgumentException("trellis.xds.auth.mode: " + mode + " (expected: dataplane-token or kubernetes)");
    }
  }

  public ProxyAuthenticator get() {
    return authenticator;
  }

  void onStop(@Observes ShutdownEvent event) {
    if (blocking != null) {
      blocking.shutdownNow();
    }
  }
}
