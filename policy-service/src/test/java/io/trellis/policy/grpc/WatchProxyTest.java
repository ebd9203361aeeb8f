package io.trellis.policy.grpc;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.auth.ServiceTokens;
import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ProxyRef;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.policy.v1.ResourceList;
import io.trellis.api.policy.v1.ResourcesRef;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.policy.service.ProxyWatchHub;
import io.trellis.policy.store.ResourceStore;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** PolicyDiscovery with a real gRPC client over the service's one port, authenticated with the service token. */
@QuarkusTest
class WatchProxyTest {
  @TestHTTPResource("/") URL url;
  @Inject ProxyWatchHub hub;
  @Inject ResourceStore store;
  @Inject ResourceCodec codec;

  ManagedChannel channel;
  PolicyDiscoveryGrpc.PolicyDiscoveryStub async;
  PolicyDiscoveryGrpc.PolicyDiscoveryBlockingStub blocking;

  static {
    io.restassured.RestAssured.config = io.restassured.RestAssured.config().encoderConfig(
        io.restassured.config.EncoderConfig.encoderConfig().encodeContentTypeAs("application/yaml", ContentType.TEXT));
  }

  @BeforeEach
  void connect() throws Exception {
    channel = ManagedChannelBuilder.forAddress(url.getHost(), url.getPort()).usePlaintext().build();
    var creds = BearerAuth.credentials(ServiceTokens.loadOrCreate(Path.of("target/test-data")));
    async = PolicyDiscoveryGrpc.newStub(channel).withCallCredentials(creds);
    blocking = PolicyDiscoveryGrpc.newBlockingStub(channel).withCallCredentials(creds);
  }

  @AfterEach
  void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static void put(String path, String yaml, int status) {
    given().contentType("application/yaml").body(yaml).put(path).then().statusCode(status);
  }

  static void mesh(String name) {
    put("/meshes/" + name, "type: Mesh\nname: " + name + "\n", 201);
  }

  static String dataplane(String mesh, String name, String service, String address) {
    return """
        type: Dataplane
        mesh: %s
        name: %s
        networking:
          address: %s
          inbound:
            - port: 8080
              tags: {kuma.io/service: %s}
        """.formatted(mesh, name, address, service);
  }

  static String timeout(String mesh, String name, String service, String idle) {
    return """
        type: MeshTimeout
        mesh: %s
        name: %s
        spec:
          targetRef: {kind: MeshService, name: %s}
          from:
            - targetRef: {kind: Mesh}
              default: {idleTimeout: %s}
        """.formatted(mesh, name, service, idle);
  }

  static final class Collector<T> implements StreamObserver<T> {
    final BlockingQueue<T> items = new LinkedBlockingQueue<>();
    volatile Throwable error;

    @Override
    public void onNext(T value) {
      items.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {}

    T next() throws InterruptedException {
      T item = items.poll(10, TimeUnit.SECONDS);
      assertThat(item).as("a message within 10 s (error: %s)", error).isNotNull();
      return item;
    }
  }

  @Test
  void callsWithoutTheServiceTokenAreRefused() {
    var anonymous = PolicyDiscoveryGrpc.newBlockingStub(channel);
    assertThatThrownBy(() -> anonymous.getProxy(ProxyRef.newBuilder().setMesh("default").setName("x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    var wrong = PolicyDiscoveryGrpc.newBlockingStub(channel).withCallCredentials(BearerAuth.credentials("nope"));
    assertThatThrownBy(() -> wrong.getProxy(ProxyRef.newBuilder().setMesh("default").setName("x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void malformedRefsAreInvalidArgumentAndUnknownOnesNotFound() {
    assertThatThrownBy(() -> blocking.getProxy(ProxyRef.newBuilder().setMesh("Bad Mesh").setName("x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("mesh: 'Bad Mesh' (expected:");
        });
    assertThatThrownBy(() -> blocking.getProxy(ProxyRef.newBuilder().setMesh("default").setName("ghost").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void aWatcherGetsTheViewWhenTheDataplaneIsCreatedThenOnlyOnChange() throws Exception {
    mesh("w1");
    Collector<ProxyView> views = new Collector<>();
    async.watchProxy(ProxyRef.newBuilder().setMesh("w1").setName("web-1").build(), views);
    Thread.sleep(300);
    assertThat(views.items).as("nothing before the Dataplane exists").isEmpty();

    put("/meshes/w1/dataplanes/web-1", dataplane("w1", "web-1", "web", "10.0.0.1"), 201);
    ProxyView first = views.next();
    assertThat(first.getName()).isEqualTo("web-1");
    assertThat(first.getInbounds(0).getTagsMap()).containsEntry("kuma.io/service", "web");

    put("/meshes/w1/meshtimeouts/idle", timeout("w1", "idle", "web", "10s"), 201);
    ProxyView second = views.next();
    assertThat(second.getVersion()).isGreaterThan(first.getVersion());
    assertThat(second.getInbounds(0).getRules(0).getRules(0).getConfJson()).contains("10s");

    // Same content again: the policy's version moves, the view does not.
    put("/meshes/w1/meshtimeouts/idle", timeout("w1", "idle", "web", "10s"), 200);
    assertThat(views.items.poll(500, TimeUnit.MILLISECONDS)).isNull();

    assertThat(blocking.getProxy(ProxyRef.newBuilder().setMesh("w1").setName("web-1").build()).getRevision())
        .isEqualTo(second.getRevision());

    given().delete("/meshes/w1/dataplanes/web-1").then().statusCode(200);
    ProxyView deleted = views.next();
    assertThat(deleted.getDeleted()).isTrue();
    assertThat(deleted.getVersion()).isGreaterThan(second.getVersion());
  }

  @Test
  void burstsAreDebouncedAndOnlyAffectedProxiesReEvaluated() throws Exception {
    mesh("w2");
    put("/meshes/w2/dataplanes/web-1", dataplane("w2", "web-1", "web", "10.0.0.1"), 201);
    put("/meshes/w2/dataplanes/other-1", dataplane("w2", "other-1", "other", "10.0.0.2"), 201);
    Collector<ProxyView> web = new Collector<>();
    Collector<ProxyView> other = new Collector<>();
    async.watchProxy(ProxyRef.newBuilder().setMesh("w2").setName("web-1").build(), web);
    async.watchProxy(ProxyRef.newBuilder().setMesh("w2").setName("other-1").build(), other);
    web.next();
    other.next();
    Thread.sleep(200);

    long before = hub.evaluations();
    // Straight to the store: five commits well inside one debounce window (300 ms in tests).
    long burstStart = System.nanoTime();
    for (int i = 1; i <= 5; i++) {
      store.put(codec.read(timeout("w2", "other-idle", "other", i + "s")), ResourceStore.ANY_VERSION);
    }
    long burstMillis = (System.nanoTime() - burstStart) / 1_000_000;
    ProxyView changed = other.next();
    assertThat(changed.getInbounds(0).getRules(0).getRules(0).getConfJson()).contains("\"idleTimeout\"");
    // the last commit's value arrives (in the first view, or the next one if the burst straddled a window)
    ProxyView last = changed;
    while (!last.getInbounds(0).getRules(0).getRules(0).getConfJson().contains("5s")) {
      last = other.next();
    }
    Thread.sleep(400);
    assertThat(web.items).as("web-1 is not selected by the policy").isEmpty();
    // One evaluation for the burst (two if it straddled a window), none for web-1. On a loaded
    // machine the five commits may themselves take longer than one window: allow one more
    // evaluation per window the burst spanned, never more than one per commit.
    long windows = burstMillis / 300;
    assertThat(hub.evaluations() - before).as("evaluations for a burst of %d ms", burstMillis)
        .isBetween(1L, Math.min(5L, 2L + windows));
  }

  @Test
  void watchResourcesStreamsTheListFirstThenOnChange() throws Exception {
    mesh("w3");
    Collector<ResourceList> lists = new Collector<>();
    async.watchResources(ResourcesRef.newBuilder().setType("Secret").setMesh("w3").build(), lists);
    assertThat(lists.next().getResourceJsonsList()).isEmpty();
    put("/meshes/w3/secrets/ca-cert", "type: Secret\nmesh: w3\nname: ca-cert\ndata: dmFsdWU=\n", 201);
    ResourceList next = lists.next();
    assertThat(next.getResourceJsonsList()).hasSize(1);
    assertThat(next.getResourceJsons(0)).contains("ca-cert");
  }
}
