package io.trellis.injector;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/** The namespaces the webhook tests' pods live in, created in the fabric8 mock API server. */
final class Namespaces {
  private Namespaces() {}

  static void create(KubernetesClient client) {
    ns(client, "default", Map.of(), Map.of());
    ns(client, "mesh-enabled", Map.of("kuma.io/sidecar-injection", "enabled"), Map.of());
    ns(client, "mesh-disabled", Map.of("kuma.io/sidecar-injection", "disabled"), Map.of());
    ns(client, "payments", Map.of("kuma.io/sidecar-injection", "enabled", "kuma.io/mesh", "payments"), Map.of());
    ns(client, "trellis-system", Map.of("kuma.io/sidecar-injection", "enabled"), Map.of());
    ns(client, "annotated-ns", Map.of(), Map.of("kuma.io/sidecar-injection", "enabled"));
  }

  private static void ns(KubernetesClient client, String name, Map<String, String> labels, Map<String, String> annotations) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels)
        .withAnnotations(annotations).endMetadata().build()).createOr(existing -> existing.update());
  }
}
