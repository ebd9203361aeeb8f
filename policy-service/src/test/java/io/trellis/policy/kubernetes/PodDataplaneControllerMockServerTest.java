package io.trellis.policy.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.policy.store.ResourceStore;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pods and Services on fabric8's mock API server (CRUD mode) become Dataplanes as Kuma makes them. Each test works
 * in a namespace of its own on one shared server; Dataplanes are compared as universal YAML.
 */
class PodDataplaneControllerMockServerTest {
  private static final ResourceCodec CODEC = new ResourceCodec();
  private static final AtomicInteger NAMESPACES = new AtomicInteger();
  private static MockApiServer api;
  private static KubernetesClient client;
  private static KubernetesResourceStore store;
  private static PodDataplaneController controller;
  private String ns;

  @BeforeAll
  static void start() {
    api = new MockApiServer();
    client = api.client();
    store = KubernetesResourceStore.start(client, CODEC, "kuma-system");
    controller = PodDataplaneController.start(client, store);
    Eventually.await(Duration.ofSeconds(10), controller::synced);
    store.put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
  }

  @AfterAll
  static void stop() {
    controller.close();
    store.close();
    api.close();
  }

  @BeforeEach
  void namespace() {
    ns = "app-" + NAMESPACES.incrementAndGet();
    createNamespace(ns, Map.of());
  }

  @Test
  void podAndServiceBecomeADataplaneAsKumaMakesIt() {
    service("backend", Map.of("app", "backend"), 80, 8080, "http");
    pod("backend-7d9c", Map.of("app", "backend", "version", "v1", "pod-template-hash", "7d9c"), "10.0.0.5",
        injected());

    assertThat(awaitDataplane("backend-7d9c")).isEqualTo("""
        type: Dataplane
        mesh: default
        name: backend-7d9c.%1$s
        labels:
          k8s.kuma.io/namespace: %1$s
          kuma.io/proxy-type: sidecar
          trellis.io/managed-by: pod-controller
        networking:
          address: 10.0.0.5
          inbound:
            - port: 8080
              tags:
                app: backend
                k8s.kuma.io/namespace: %1$s
                k8s.kuma.io/service-name: backend
                k8s.kuma.io/service-port: "80"
                kuma.io/protocol: http
                kuma.io/service: backend_%1$s_svc_80
                version: v1
              health:
                ready: true
          transparentProxying:
            redirectPortInbound: 15006
            redirectPortOutbound: 15001
            reachableServices:
              - redis_%1$s_svc_6379
              - db_%1$s_svc_5432
            ipFamilyMode: IPv4
          admin:
            port: 9901
        """.formatted(ns));
  }

  @Test
  void aNamedTargetPortIsResolvedFromTheContainer() {
    client.services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata().withName("web").endMetadata()
        .withNewSpec().withSelector(Map.of("app", "web"))
        .withPorts(new ServicePortBuilder().withPort(80).withNewTargetPort("http-web").build())
        .endSpec().build()).create();
    Pod pod = podBuilder("web-1", Map.of("app", "web"), "10.0.0.6", injected());
    pod.getSpec().getContainers().get(0).getPorts().get(0).setName("http-web");
    pod.getSpec().getContainers().get(0).getPorts().get(0).setContainerPort(3000);
    client.pods().inNamespace(ns).resource(pod).create();

    assertThat(awaitDataplane("web-1"))
        .contains("- port: 3000")
        .contains("kuma.io/service: web_" + ns + "_svc_80")
        .contains("kuma.io/protocol: tcp"); // no appProtocol
  }

  @Test
  void theMeshComesFromThePodElseItsNamespaceElseDefault() {
    store.put(Meshes.builder().name("payments").build(), ResourceStore.ANY_VERSION);
    store.put(Meshes.builder().name("orders").build(), ResourceStore.ANY_VERSION);
    String labelled = "labelled-" + NAMESPACES.incrementAndGet();
    createNamespace(labelled, Map.of("kuma.io/mesh", "payments"));
    String saved = ns;
    ns = labelled;
    service("api", Map.of("app", "api"), 80, 8080, null);
    pod("from-namespace", Map.of("app", "api"), "10.0.1.1", injected());
    Map<String, String> own = new java.util.HashMap<>(injected());
    own.put("kuma.io/mesh", "orders");
    pod("from-pod", Map.of("app", "api"), "10.0.1.2", own);
    ns = saved;
    service("api", Map.of("app", "api"), 80, 8080, null);
    pod("no-label", Map.of("app", "api"), "10.0.1.3", injected());

    Eventually.await(Duration.ofSeconds(10), () -> store.getInAnyMesh(ResourceType.DATAPLANE,
        "no-label." + ns).isPresent() && store.getInAnyMesh(ResourceType.DATAPLANE, "from-pod." + labelled)
        .isPresent() && store.getInAnyMesh(ResourceType.DATAPLANE, "from-namespace." + labelled).isPresent());
    assertThat(mesh("from-namespace." + labelled)).isEqualTo("payments");
    assertThat(mesh("from-pod." + labelled)).isEqualTo("orders");
    assertThat(mesh("no-label." + ns)).isEqualTo("default");
  }

  @Test
  void aGatewayPodBecomesADelegatedGatewayDataplane() {
    service("edge", Map.of("app", "edge"), 443, 8443, null);
    Map<String, String> annotations = new java.util.HashMap<>(injected());
    annotations.put("kuma.io/gateway", "enabled");
    pod("edge-1", Map.of("app", "edge"), "10.0.2.1", annotations);

    String yaml = awaitDataplane("edge-1");
    assertThat(yaml).contains("""
          gateway:
            type: DELEGATED
            tags:
              app: edge
              k8s.kuma.io/namespace: %1$s
              k8s.kuma.io/service-name: edge
              k8s.kuma.io/service-port: "443"
              kuma.io/protocol: tcp
              kuma.io/service: edge_%1$s_svc_443
        """.formatted(ns)).doesNotContain("inbound").contains("kuma.io/proxy-type: gateway");
  }

  @Test
  void deletingThePodDeletesItsDataplane() {
    service("svc", Map.of("app", "svc"), 80, 8080, null);
    pod("svc-1", Map.of("app", "svc"), "10.0.3.1", injected());
    awaitDataplane("svc-1");

    client.pods().inNamespace(ns).withName("svc-1").delete();
    Eventually.await(Duration.ofSeconds(10), () ->
        store.getInAnyMesh(ResourceType.DATAPLANE, "svc-1." + ns).isEmpty());
  }

  @Test
  void thePodOwnsItsDataplaneSoTheClusterCollectsItWithThePod() {
    service("svc", Map.of("app", "svc"), 80, 8080, null);
    pod("owned-1", Map.of("app", "svc"), "10.0.6.1", injected());
    awaitDataplane("owned-1");
    String uid = client.pods().inNamespace(ns).withName("owned-1").get().getMetadata().getUid();
    assertThat(uid).isNotBlank();

    assertThat(dataplaneObject("owned-1").getMetadata().getOwnerReferences()).singleElement().satisfies(ref -> {
      assertThat(ref.getApiVersion()).isEqualTo("v1");
      assertThat(ref.getKind()).isEqualTo("Pod");
      assertThat(ref.getName()).isEqualTo("owned-1");
      assertThat(ref.getUid()).isEqualTo(uid);
      assertThat(ref.getController()).isTrue();
      assertThat(ref.getBlockOwnerDeletion()).isNull();
    });
  }

  @Test
  void aDataplaneWithoutItsOwnerGetsItBackOnThePodsNextChange() {
    service("svc", Map.of("app", "svc"), 80, 8080, null);
    pod("owned-2", Map.of("app", "svc"), "10.0.6.2", injected());
    awaitDataplane("owned-2");
    // as written by a version of the controller that set no owner: same content, no ownerReferences
    Resource current = store.getInAnyMesh(ResourceType.DATAPLANE, "owned-2." + ns).orElseThrow();
    store.put(current, current.meta().version());
    Eventually.await(Duration.ofSeconds(10), () -> store.ownerUids(ResourceType.DATAPLANE, "owned-2." + ns).isEmpty());

    Pod touched = client.pods().inNamespace(ns).withName("owned-2").get();
    touched.getMetadata().getAnnotations().put("touched", "yes");
    client.pods().inNamespace(ns).resource(touched).update();
    String uid = touched.getMetadata().getUid();
    Eventually.await(Duration.ofSeconds(10), () ->
        store.ownerUids(ResourceType.DATAPLANE, "owned-2." + ns).equals(java.util.List.of(uid)));
    assertThat(dataplaneObject("owned-2").getMetadata().getOwnerReferences()).singleElement()
        .satisfies(ref -> assertThat(ref.getUid()).isEqualTo(uid));
  }

  @Test
  void aServiceChangeUpdatesTheDataplanes() {
    service("svc", Map.of("app", "svc"), 80, 8080, null);
    pod("svc-1", Map.of("app", "svc"), "10.0.4.1", injected());
    assertThat(awaitDataplane("svc-1")).contains("kuma.io/protocol: tcp");

    Service changed = client.services().inNamespace(ns).withName("svc").get();
    changed.getSpec().getPorts().get(0).setAppProtocol("grpc");
    client.services().inNamespace(ns).resource(changed).update();
    Eventually.await(Duration.ofSeconds(10), () -> dataplane("svc-1").map(y -> y.contains("kuma.io/protocol: grpc"))
        .orElse(false));

    client.services().inNamespace(ns).withName("svc").delete();
    Eventually.await(Duration.ofSeconds(10), () -> dataplane("svc-1").isEmpty());
  }

  @Test
  void podsWithoutSidecarGetNoDataplaneAndHandMadeOnesAreLeftAlone() {
    service("svc", Map.of("app", "svc"), 80, 8080, null);
    pod("plain", Map.of("app", "svc"), "10.0.5.1", Map.of());
    Resource handMade = Dataplanes.builder().mesh("default").name("x").service("svc").build();
    store.put(new Resource(ResourceType.DATAPLANE, Meta.of("default", "hand-made." + ns), handMade.spec()),
        ResourceStore.NEW);
    pod("hand-made", Map.of("app", "svc"), "10.0.5.2", injected());
    pod("marker", Map.of("app", "svc"), "10.0.5.3", injected());
    awaitDataplane("marker"); // the controller has handled the earlier pods by now (one worker, in order)

    assertThat(dataplane("plain")).isEmpty();
    assertThat(store.getInAnyMesh(ResourceType.DATAPLANE, "hand-made." + ns).orElseThrow().spec())
        .isEqualTo(handMade.spec());
  }

  // ------------------------------------------------------------------ helpers

  private static Map<String, String> injected() {
    return Map.of(
        "kuma.io/sidecar-injected", "true",
        "kuma.io/transparent-proxying", "enabled",
        "kuma.io/transparent-proxying-inbound-port", "15006",
        "kuma.io/transparent-proxying-outbound-port", "15001",
        "kuma.io/transparent-proxying-ip-family-mode", "ipv4",
        "kuma.io/envoy-admin-port", "9901");
  }

  private void createNamespace(String name, Map<String, String> labels) {
    Namespace namespace = new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
        .build();
    client.namespaces().resource(namespace).create();
  }

  private void service(String name, Map<String, String> selector, int port, int targetPort, String appProtocol) {
    client.services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewSpec().withSelector(selector)
        .withPorts(new ServicePortBuilder().withPort(port).withNewTargetPort(targetPort)
            .withAppProtocol(appProtocol).build())
        .endSpec().build()).create();
  }

  private void pod(String name, Map<String, String> labels, String ip, Map<String, String> annotations) {
    Map<String, String> all = new java.util.HashMap<>(annotations);
    if (name.equals("backend-7d9c")) {
      all.put("kuma.io/transparent-proxying-reachable-services", "redis_" + ns + "_svc_6379, db_" + ns
          + "_svc_5432");
    }
    client.pods().inNamespace(ns).resource(podBuilder(name, labels, ip, all)).create();
  }

  private Pod podBuilder(String name, Map<String, String> labels, String ip, Map<String, String> annotations) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels)
        .withAnnotations(annotations).endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("app:1").addNewPort().withContainerPort(8080)
        .endPort().endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewCondition().withType("Ready").withStatus("True")
        .endCondition().endStatus()
        .build();
  }

  private io.fabric8.kubernetes.api.model.GenericKubernetesResource dataplaneObject(String pod) {
    return client.genericKubernetesResources("kuma.io/v1alpha1", "Dataplane").inNamespace(ns).withName(pod).get();
  }

  private String awaitDataplane(String pod) {
    Eventually.await(Duration.ofSeconds(10), () -> dataplane(pod).isPresent());
    return dataplane(pod).orElseThrow();
  }

  private Optional<String> dataplane(String pod) {
    return store.getInAnyMesh(ResourceType.DATAPLANE, pod + "." + ns).map(r -> CODEC.writeUniversalYaml(
        new Resource(r.type(), new Meta(r.mesh(), r.name(), r.meta().labels(), 0, null, null), r.spec())));
  }

  private static String mesh(String name) {
    return store.getInAnyMesh(ResourceType.DATAPLANE, name).orElseThrow().mesh();
  }
}
