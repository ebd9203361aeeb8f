package io.trellis.policy.kubernetes;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.trellis.api.codec.ResourceCodec;
import java.util.HashMap;
import java.util.List;

/**
 * fabric8's mock API server in CRUD mode on a random port, with Trellis' generated CRDs applied to it (which is
 * also how the mock server learns their plurals and scopes).
 */
final class MockApiServer implements AutoCloseable {
  private final KubernetesMockServer server;
  private final KubernetesClient client;

  MockApiServer() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(List.of()), false);
    server.init();
    client = server.createClient();
    CrdGenerator generator = new CrdGenerator(new ResourceCodec());
    for (String yaml : generator.files().values()) {
      CustomResourceDefinition crd = client.getKubernetesSerialization().unmarshal(yaml,
          CustomResourceDefinition.class);
      client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    }
  }

  KubernetesClient client() {
    return client;
  }

  /** Another client on the same server, e.g. standing in for kubectl. */
  KubernetesClient newClient() {
    return server.createClient();
  }

  /** Deletes every Kuma object (between tests sharing one server). */
  void deleteAll() {
    for (KumaKind kind : KumaKind.values()) {
      var op = client.genericKubernetesResources(kind.context());
      for (var item : (kind.namespaced() ? op.inAnyNamespace() : op).list().getItems()) {
        var meta = item.getMetadata();
        (kind.namespaced() ? op.inNamespace(meta.getNamespace()) : op).withName(meta.getName()).delete();
      }
    }
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
