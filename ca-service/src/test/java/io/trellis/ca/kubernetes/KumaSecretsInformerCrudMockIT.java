package io.trellis.ca.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.trellis.ca.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import org.junit.jupiter.api.Test;

/** Kuma Secrets in their Kubernetes form, watched through fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class KumaSecretsInformerCrudMockIT {
  static final String NS = "trellis-system";
  KubernetesClient client;

  static Secret secret(String name, String mesh, String type, String value) {
    SecretBuilder b = new SecretBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata().withType(type)
        .withData(Map.of("value", Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))));
    if (mesh != null) {
      b.editMetadata().withLabels(Map.of("kuma.io/mesh", mesh)).endMetadata();
    }
    return b.build();
  }

  static String value(Map<String, Map<String, byte[]>> all, String mesh, String name) {
    byte[] v = all.getOrDefault(mesh, Map.of()).get(name);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  @Test
  void initialListThenChangesByMeshLabel() throws Exception {
    client.secrets().inNamespace(NS).resource(secret("ca-cert", "payments", "system.kuma.io/secret", "CERT")).create();
    client.secrets().inNamespace(NS).resource(secret("no-label", null, "system.kuma.io/secret", "D")).create();
    client.secrets().inNamespace(NS).resource(secret("tls", "payments", "kubernetes.io/tls", "not kuma")).create();
    AtomicReference<Map<String, Map<String, byte[]>>> last = new AtomicReference<>();

    try (KumaSecretsInformer informer = new KumaSecretsInformer(client, NS, last::set)) {
      Await.until("initial list delivered", Duration.ofSeconds(10), () -> last.get() != null);
      assertThat(value(last.get(), "payments", "ca-cert")).isEqualTo("CERT");
      assertThat(value(last.get(), "default", "no-label")).isEqualTo("D");
      assertThat(value(last.get(), "payments", "tls")).isNull();

      client.secrets().inNamespace(NS).resource(secret("ca-cert", "payments", "system.kuma.io/secret", "CERT2")).update();
      Await.until("update seen", Duration.ofSeconds(10), () -> "CERT2".equals(value(last.get(), "payments", "ca-cert")));

      client.secrets().inNamespace(NS).withName("no-label").delete();
      Await.until("delete seen", Duration.ofSeconds(10), () -> value(last.get(), "default", "no-label") == null);
      assertThat(value(last.get(), "payments", "ca-cert")).isEqualTo("CERT2");
    }
  }

  /** The API server is down when ca-service starts: no exception, nothing published, then it catches up. */
  @Test
  void apiServerUnreachableAtStartIsRetriedNotFatal() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    AtomicReference<Map<String, Map<String, byte[]>>> last = new AtomicReference<>();
    try (KubernetesClient late = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl("http://127.0.0.1:" + port).withNamespace(NS).withWatchReconnectInterval(200)
        .withRequestRetryBackoffLimit(0).withConnectionTimeout(500).build()).build();
        KumaSecretsInformer informer = new KumaSecretsInformer(late, NS, last::set)) {
      Thread.sleep(1500);
      assertThat(last.get()).as("nothing published before the first list").isNull();

      KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
          new KubernetesCrudDispatcher(), false);
      server.init(InetAddress.getByName("127.0.0.1"), port);
      try {
        late.secrets().inNamespace(NS).resource(secret("ca-cert", "payments", "system.kuma.io/secret", "LATE")).create();
        Await.until("list after the API server came up", Duration.ofSeconds(60),
            () -> last.get() != null && "LATE".equals(value(last.get(), "payments", "ca-cert")));
      } finally {
        server.destroy();
      }
    }
  }
}
