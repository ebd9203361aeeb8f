package io.trellis.policy.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.fixtures.Policies;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.validation.ValidationException;
import io.trellis.policy.store.ChangeEvent;
import io.trellis.policy.store.ResourceStore;
import io.trellis.policy.store.ResourceStoreContract;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes store against fabric8's mock API server in CRUD mode (real HTTP, watches and resourceVersion
 * checks; no admission, no garbage collector): the store contract plus what only Kubernetes has.
 */
class KubernetesStoreMockServerTest extends ResourceStoreContract {
  // one API server and store for the class (starting them costs a second); each test starts from an empty one
  private static MockApiServer api;
  private static KubernetesResourceStore store;

  @BeforeAll
  static void start() {
    api = new MockApiServer();
    store = KubernetesResourceStore.start(api.client(), new ResourceCodec(), "kuma-system");
    Eventually.await(Duration.ofSeconds(10), store::synced);
  }

  @AfterEach
  void empty() {
    api.deleteAll();
    Eventually.await(Duration.ofSeconds(5), () -> store.listAll().isEmpty());
  }

  @AfterAll
  static void stop() {
    store.close();
    api.close();
  }

  @Override
  protected ResourceStore store() {
    return store;
  }

  @Override
  protected boolean versionsCountFromOne() {
    return false;
  }

  @Override
  protected String name(String base) {
    return base + ".kuma-system";
  }

  @Test
  void policiesAreNamespacedCustomResourcesNamedNameDotNamespace() {
    store.put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    store.put(rename(Policies.allowAll("default"), "allow-all.kuma-system"), ResourceStore.ANY_VERSION);

    GenericKubernetesResource object = api.client()
        .genericKubernetesResources(KumaKind.MESH_TRAFFIC_PERMISSION.context())
        .inNamespace("kuma-system").withName("allow-all").get();
    assertThat(object.getApiVersion()).isEqualTo("kuma.io/v1alpha1");
    assertThat(object.getMetadata().getLabels()).containsEntry("kuma.io/mesh", "default");
    Resource read = store.get(ResourceType.MESH_TRAFFIC_PERMISSION, "default", "allow-all.kuma-system")
        .orElseThrow();
    assertThat(read.spec()).isEqualTo(Policies.allowAll("default").spec());
    assertThat(read.meta().version()).isEqualTo(Long.parseLong(object.getMetadata().getResourceVersion()));
    assertThat(store.get(ResourceType.MESH_TRAFFIC_PERMISSION, "other", "allow-all.kuma-system")).isEmpty();
  }

  @Test
  void aNamespacedNameWithoutNamespaceIsRefusedNamingTheField() {
    assertThatThrownBy(() -> store.put(Policies.allowAll("default"), ResourceStore.ANY_VERSION))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("name")
        .hasMessageContaining("expected: <name>.<namespace>");
  }

  @Test
  void invalidResourcesAreRefusedBeforeReachingTheApiServer() {
    Resource noService = new Resource(ResourceType.DATAPLANE, Meta.of("default", "dp.ns"),
        Dataplanes.builder().mesh("default").name("dp").service("svc").build().spec());
    Resource broken = new Resource(ResourceType.DATAPLANE, noService.meta(),
        new io.trellis.api.model.DataplaneSpec(null, null, null));
    assertThatThrownBy(() -> store.put(broken, ResourceStore.ANY_VERSION)).isInstanceOf(ValidationException.class);
    assertThat(api.client().genericKubernetesResources(KumaKind.DATAPLANE.context()).inAnyNamespace().list()
        .getItems()).isEmpty();
  }

  @Test
  void changesMadeWithKubectlReachTheStoreAndItsListeners() throws Exception {
    List<ChangeEvent> events = Collections.synchronizedList(new ArrayList<>());
    try (AutoCloseable ignored = store.watch(events::add);
        KubernetesClient kubectl = api.newClient()) {
      String yaml = """
          apiVersion: kuma.io/v1alpha1
          kind: MeshTimeout
          metadata:
            name: timeout-global
            namespace: kuma-system
            labels:
              kuma.io/mesh: default
          spec:
            targetRef:
              kind: Mesh
            to:
              - targetRef:
                  kind: Mesh
                default:
                  http:
                    requestTimeout: 2s
          """;
      kubectl.genericKubernetesResources(KumaKind.MESH_TIMEOUT.context()).inNamespace("kuma-system")
          .resource(kubectl.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class)).create();
      Eventually.await(Duration.ofSeconds(5), () ->
          store.get(ResourceType.MESH_TIMEOUT, "default", "timeout-global.kuma-system").isPresent());
      assertThat(events).singleElement().satisfies(e -> {
        assertThat(e.before()).isNull();
        assertThat(e.after().name()).isEqualTo("timeout-global.kuma-system");
      });

      kubectl.genericKubernetesResources(KumaKind.MESH_TIMEOUT.context()).inNamespace("kuma-system")
          .withName("timeout-global").delete();
      Eventually.await(Duration.ofSeconds(5), () -> events.size() == 2);
      assertThat(events.get(1).deleted()).isTrue();
      assertThat(store.listAll()).isEmpty();
    }
  }

  @Test
  void anInvalidObjectAppliedBehindTheStoresBackIsIgnored() {
    String yaml = """
        apiVersion: kuma.io/v1alpha1
        kind: MeshTrafficPermission
        metadata:
          name: broken
          namespace: kuma-system
        spec:
          targetRef:
            kind: Mesh
          from:
            - targetRef:
                kind: Mesh
              default:
                action: Maybe
        """;
    var client = api.client();
    client.genericKubernetesResources(KumaKind.MESH_TRAFFIC_PERMISSION.context()).inNamespace("kuma-system")
        .resource(client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class)).create();
    // a later write of the same kind: once it is visible, the informer has processed the broken one too
    store.put(rename(Policies.allowAll("default"), "allow-all.kuma-system"), ResourceStore.ANY_VERSION);
    assertThat(store.list(ResourceType.MESH_TRAFFIC_PERMISSION, null, Map.of(), 0, 10).items())
        .extracting(Resource::name).containsExactly("allow-all.kuma-system");
  }

  @Test
  void sameNameInAnotherMeshConflicts() {
    store.put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    store.put(rename(Policies.allowAll("default"), "allow-all.kuma-system"), ResourceStore.ANY_VERSION);
    Resource other = rename(Policies.allowAll("other"), "allow-all.kuma-system");
    assertThatThrownBy(() -> store.put(other, ResourceStore.ANY_VERSION))
        .isInstanceOf(io.trellis.policy.store.ConflictException.class)
        .hasMessageContaining("exists in mesh default");
  }

  @Test
  void deletingAMeshDeletesItsObjectsInEveryNamespace() {
    store.put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    store.put(rename(Policies.allowAll("default"), "allow-all.kuma-system"), ResourceStore.ANY_VERSION);
    store.put(rename(Dataplanes.builder().mesh("default").name("x").service("svc").build(), "web-1.apps"),
        ResourceStore.ANY_VERSION);
    assertThat(store.delete(ResourceType.MESH, null, "default", ResourceStore.ANY_VERSION)).isTrue();
    assertThat(store.listAll()).isEmpty();
    assertThat(api.client().genericKubernetesResources(KumaKind.DATAPLANE.context()).inAnyNamespace().list()
        .getItems()).isEmpty();
  }

  /** Kuma keeps mesh Secrets in the system namespace: a look-alike elsewhere is not watched, not seen. */
  @Test
  void onlySecretsOfTheSystemNamespaceAreMeshSecrets() {
    store.put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    for (String ns : List.of("kuma-system", "apps")) {
      api.client().secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
          .withNewMetadata().withName("token-" + ns).withNamespace(ns).withLabels(Map.of("kuma.io/mesh", "default"))
          .endMetadata().withType("system.kuma.io/secret").withData(Map.of("value", "c2VjcmV0")).build()).create();
    }
    Eventually.await(Duration.ofSeconds(10),
        () -> store.list(ResourceType.SECRET, "default", Map.of(), 0, 100).total() > 0);
    assertThat(store.list(ResourceType.SECRET, "default", Map.of(), 0, 100).items())
        .extracting(Resource::name).containsExactly("token-kuma-system");
    api.client().secrets().inNamespace("apps").withName("token-apps").delete();
    api.client().secrets().inNamespace("kuma-system").withName("token-kuma-system").delete();
  }

  private static Resource rename(Resource r, String name) {
    Meta m = r.meta();
    return new Resource(r.type(), new Meta(m.mesh(), name, m.labels(), 0, null, null), r.spec());
  }
}
