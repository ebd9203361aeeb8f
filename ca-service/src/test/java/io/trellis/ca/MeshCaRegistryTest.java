package io.trellis.ca;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.LocalCaBackend;
import io.trellis.ca.backend.VaultBackendFactory;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.Await;
import io.trellis.ca.testing.TestCas;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshCaRegistryTest {
  @TempDir
  Path dir;

  final ResourceCodec codec = new ResourceCodec();
  final ScheduledExecutorService loader = Executors.newSingleThreadScheduledExecutor();
  final List<String> errors = new CopyOnWriteArrayList<>();
  final MeshCaRegistry.Events events = new MeshCaRegistry.Events() {
    @Override
    public void backendError(String mesh, String backend, String type, String error) {
      errors.add(mesh + "/" + backend + ": " + error);
    }
  };

  @AfterEach
  void stop() {
    loader.shutdownNow();
  }

  Resource r(String json) {
    return codec.readUniversal(json);
  }

  static final String VAULT_MESH = """
      {"type":"Mesh","name":"v","mtls":{"enabledBackend":"vault-1","backends":[{"name":"vault-1","type":"vault",
       "conf":{"fromCp":{"address":"https://vault:8200","pki":"pki","role":"r","auth":{"token":{"inlineString":"t"}}}}}]}}""";

  @Test
  void failingBackendIsRetriedWithBackoffAndReadinessWaitsForIt() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    VaultBackendFactory flaky = (mesh, backend, conf, sources) -> {
      if (attempts.incrementAndGet() < 3) {
        throw new IOException("vault https://vault:8200: connection refused");
      }
      return new LocalCaBackend(backend, "vault", BuiltinCa.create(mesh, null));
    };
    MeshCaRegistry registry = new MeshCaRegistry(dir, flaky, loader, events, Duration.ofMillis(100));
    assertThat(registry.notReady()).containsKeys("meshes", "secrets");
    registry.applySecrets(List.of());
    registry.applyMeshes(List.of(r(VAULT_MESH)));
    Await.until("vault backend loaded", Duration.ofSeconds(10),
        () -> registry.mesh("v").flatMap(m -> m.slot("vault-1")).map(s -> s.backend() != null).orElse(false));
    assertThat(attempts.get()).isEqualTo(3);
    assertThat(errors).hasSize(2).allMatch(e -> e.contains("connection refused"));
    assertThat(registry.notReady()).isEmpty();
    assertThat(registry.mesh("v").orElseThrow().bundle().getRootsPem()).contains("BEGIN CERTIFICATE");
  }

  @Test
  void whileFailingTheServiceIsNotReadyAndTheBackendHasNoFallback() throws Exception {
    VaultBackendFactory down = (mesh, backend, conf, sources) -> {
      throw new IOException("vault down");
    };
    MeshCaRegistry registry = new MeshCaRegistry(dir, down, loader, events, Duration.ofMillis(50));
    registry.applySecrets(List.of());
    registry.applyMeshes(List.of(r(VAULT_MESH)));
    Await.until("a few retries", Duration.ofSeconds(10), () -> errors.size() >= 3);
    assertThat(registry.notReady()).containsEntry("v/vault-1", "vault down");
    assertThat(registry.mesh("v").orElseThrow().slot("vault-1").orElseThrow().backend()).isNull();
  }

  @Test
  void providedBackendFromASecretLoadsWhenTheSecretArrivesAndBadConfigIsNotRetried() throws Exception {
    TestCas.Ca ca = TestCas.root("Provided");
    String mesh = """
        {"type":"Mesh","name":"p","mtls":{"enabledBackend":"prov","backends":[
          {"name":"prov","type":"provided","conf":{"cert":{"secret":"ca-cert"},"key":{"secret":"ca-key"}}},
          {"name":"bad","type":"builtin","conf":{"caCert":{"RSAbits":1000}}}]}}""";
    MeshCaRegistry registry = new MeshCaRegistry(dir, (m, b, c, s) -> null, loader, events, Duration.ofMillis(50));
    registry.applySecrets(List.of());
    registry.applyMeshes(List.of(r(mesh)));
    Await.until("provided failed: no secret", Duration.ofSeconds(10),
        () -> errors.stream().anyMatch(e -> e.contains("Secret \"ca-cert\" not found")));
    Await.until("bad builtin refused", Duration.ofSeconds(10),
        () -> errors.stream().anyMatch(e -> e.contains("caCert.RSAbits: 1000")));

    registry.applySecrets(List.of(secret("p", "ca-cert", Pem.certificate(ca.cert())),
        secret("p", "ca-key", Pem.privateKey(ca.keys().getPrivate()))));
    Await.until("provided loaded", Duration.ofSeconds(10),
        () -> registry.mesh("p").flatMap(m -> m.slot("prov")).map(s -> s.backend() != null).orElse(false));
    CaBackend prov = registry.mesh("p").orElseThrow().slot("prov").orElseThrow().backend();
    assertThat(prov.trustAnchors()).containsExactly(ca.cert());
    Thread.sleep(300);
    // configuration errors wait for a change instead of being retried
    assertThat(errors.stream().filter(e -> e.contains("RSAbits")).count()).isEqualTo(1);
    assertThat(registry.notReady()).isEmpty();
  }

  Resource secret(String mesh, String name, String value) {
    return r("{\"type\":\"Secret\",\"mesh\":\"" + mesh + "\",\"name\":\"" + name + "\",\"data\":\""
        + Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.US_ASCII)) + "\"}");
  }
}
