package io.trellis.ca.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.trellis.api.auth.ServiceTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Starts a {@link FakePolicyServer} before ca-service and points ca-service at it, with a fresh data
 * directory. The initial meshes: {@code default} (builtin backend {@code ca-1}, enabled) and
 * {@code plain} (no mTLS).
 */
public class FakePolicyResource implements QuarkusTestResourceLifecycleManager {
  public static volatile FakePolicyServer policy;
  public static volatile Path dataDir;
  public static volatile String serviceToken;

  public static final String DEFAULT_MESH = """
      {"type":"Mesh","name":"default","mtls":{"enabledBackend":"ca-1","backends":[{"name":"ca-1","type":"builtin"}]}}""";
  public static final String PLAIN_MESH = """
      {"type":"Mesh","name":"plain"}""";

  @Override
  public Map<String, String> start() {
    try {
      dataDir = Files.createTempDirectory("ca-service-test");
      serviceToken = ServiceTokens.loadOrCreate(dataDir);
      policy = new FakePolicyServer(serviceToken);
      policy.set("Mesh", List.of(DEFAULT_MESH, PLAIN_MESH));
      return Map.of(
          "trellis.data-dir", dataDir.toString(),
          "trellis.policy.address", "127.0.0.1:" + policy.port(),
          "trellis.ca.max-backoff", "1s",
          "trellis.ca.vault.timeout", "2s");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void stop() {
    if (policy != null) {
      policy.close();
    }
  }
}
