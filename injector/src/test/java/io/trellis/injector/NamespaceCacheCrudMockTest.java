package io.trellis.injector;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The webhook's namespace lookups against fabric8's mock API server in CRUD mode: once synced, known namespaces cost
 * no request, label changes arrive through the watch, and an unknown one is read directly.
 */
@EnableKubernetesMockClient(crud = true)
class NamespaceCacheCrudMockTest {
  KubernetesMockServer server;
  KubernetesClient client;

  static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void knownNamespacesComeFromTheInformerAndUnknownOnesFromTheApi() throws Exception {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apps")
        .withLabels(Map.of("kuma.io/sidecar-injection", "enabled")).endMetadata().build()).create();
    NamespaceCache cache = new NamespaceCache(client);
    cache.start();
    await("informer synced", cache::synced);

    paths();
    for (int i = 0; i < 50; i++) {
      assertThat(cache.get("apps").getMetadata().getLabels()).containsEntry("kuma.io/sidecar-injection", "enabled");
    }
    assertThat(paths()).as("no request per admitted pod").noneMatch(p -> p.startsWith("/api/v1/namespaces/apps"));

    client.namespaces().withName("apps").edit(ns -> new NamespaceBuilder(ns).editMetadata()
        .addToLabels("kuma.io/sidecar-injection", "disabled").endMetadata().build());
    await("label change seen", () -> "disabled".equals(cache.get("apps").getMetadata().getLabels().get("kuma.io/sidecar-injection")));

    paths();
    assertThat(cache.get("nowhere")).isNull();
    assertThat(paths()).as("an unknown namespace is asked for").contains("/api/v1/namespaces/nowhere");
  }

  /** The requests the API server received since the last call (the informer's list/watch included). */
  private java.util.List<String> paths() throws InterruptedException {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (var r = server.takeRequest(50, java.util.concurrent.TimeUnit.MILLISECONDS); r != null;
        r = server.takeRequest(50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
      out.add(r.getPath());
    }
    return out;
  }
}
