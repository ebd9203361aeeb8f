package io.trellis.xds.auth;

import static io.trellis.xds.testing.Views.endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.AdsClient;
import io.trellis.xds.testing.FakeControlPlane;
import io.trellis.xds.testing.FakeControlPlaneResource;
import io.trellis.xds.testing.Views;
import java.net.URL;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Kubernetes mode authentication against fabric8's mock API server in <b>expectations</b> mode (it
 * answers TokenReviews like the API server would, for a fixed set of tokens, and serves the pods behind the
 * Dataplanes), with real ADS streams: only the ServiceAccount of the pod behind the Dataplane, in the
 * pod's namespace and mesh, gets its config.
 */
@QuarkusTest
@TestProfile(KubernetesTokenReviewExpectationsIT.KubernetesMode.class)
@QuarkusTestResource(FakeControlPlaneResource.class)
@WithKubernetesTestServer(crud = false)
class KubernetesTokenReviewExpectationsIT {
  static final String AUDIENCE = "trellis-xds";
  /** token → the user the API server authenticates it as. */
  static final Map<String, String> TOKENS = Map.of(
      "token-web", "system:serviceaccount:demo:web",
      "token-other", "system:serviceaccount:demo:other",
      "token-web-elsewhere", "system:serviceaccount:kube-system:web",
      "token-human", "alice");

  public static class KubernetesMode implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("trellis.xds.auth.mode", "kubernetes", "trellis.xds.auth.kubernetes.audiences", AUDIENCE);
    }
  }

  @KubernetesTestServer
  KubernetesServer apiServer;

  @TestHTTPResource("/")
  URL url;

  ManagedChannel channel;
  FakeControlPlane fake;

  @BeforeEach
  void setUp() {
    fake = FakeControlPlaneResource.FAKE;
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", url.getPort()).usePlaintext().build();
    apiServer.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(201, request -> review(Serialization.unmarshal(request.getUtf8Body(), TokenReview.class))).always();
    apiServer.expect().get().withPath("/api/v1/namespaces/demo/pods/web-1")
        .andReturn(200, pod("web-1", "web", null)).always();
    apiServer.expect().get().withPath("/api/v1/namespaces/demo/pods/pay-1")
        .andReturn(200, pod("pay-1", "web", "payments")).always();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** What the API server answers: authenticated only for known tokens asked with our audience. */
  static TokenReview review(TokenReview request) {
    String user = TOKENS.get(request.getSpec().getToken());
    boolean audienceOk = request.getSpec().getAudiences() != null && request.getSpec().getAudiences().contains(AUDIENCE);
    TokenReviewBuilder b = new TokenReviewBuilder(request).withNewStatus()
        .withAuthenticated(user != null && audienceOk)
        .withError(user == null ? "invalid bearer token" : audienceOk ? null : "token audiences do not match")
        .withNewUser().withUsername(user != null && audienceOk ? user : null).endUser()
        .endStatus();
    return b.build();
  }

  static Pod pod(String name, String serviceAccount, String mesh) {
    PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace("demo").endMetadata()
        .withNewSpec().withServiceAccountName(serviceAccount).endSpec();
    if (mesh != null) {
      b.editMetadata().addToAnnotations("kuma.io/mesh", mesh).endMetadata();
    }
    return b.build();
  }

  static ProxyView view(String name) {
    return Views.of(Dataplanes.builder().name("dp").address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
            Meshes.defaultMesh())
        .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
        .build().toBuilder().setName(name).build();
  }

  @Test
  void thePodsServiceAccountGetsItsDataplanesConfig() throws Exception {
    fake.push(view("web-1.demo"));
    try (AdsClient ads = AdsClient.sotw(channel, "default.web-1.demo", "token-web")) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
      DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, 20);
      assertThat(cds).isNotNull();
      assertThat(cds.getResourcesCount()).isPositive();
      assertThat(ads.closed).isNotDone();
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "another service account of the namespace|token-other|default.web-1.demo|PERMISSION_DENIED|may not act as Dataplane web-1.demo (expected: the pod's service account demo/web)",
    "same account name in another namespace|token-web-elsewhere|default.web-1.demo|PERMISSION_DENIED|kube-system/web may not act",
    "a user, not a service account|token-human|default.web-1.demo|PERMISSION_DENIED|user alice (expected: system:serviceaccount:",
    "a token the API server rejects|forged|default.web-1.demo|UNAUTHENTICATED|rejected by the Kubernetes API (invalid bearer token)",
    "a pod that does not exist|token-web|default.gone-1.demo|PERMISSION_DENIED|pod demo/gone-1 not found",
    "the right pod in the wrong mesh|token-web|default.pay-1.demo|PERMISSION_DENIED|expected: mesh payments of pod demo/pay-1",
    "a node id that names no pod|token-web|default.web-1|PERMISSION_DENIED|expected: <mesh>.<pod>.<namespace>",
  })
  void refusedAndNothingIsSent(String name, String token, String nodeId, Status.Code code, String reason) throws Exception {
    try (AdsClient ads = AdsClient.sotw(channel, nodeId, token)) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
      ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
      Status status = ads.closed.get(20, TimeUnit.SECONDS);
      assertThat(status.getCode()).as(name).isEqualTo(code);
      assertThat(status.getDescription()).as(name).contains(reason);
      assertThat(ads.responses).as(name).isEmpty();
    }
  }

  @Test
  void noTokenIsUnauthenticatedWithoutAskingTheApiServer() throws Exception {
    int before = apiServer.getKubernetesMockServer().getRequestCount();
    try (AdsClient ads = AdsClient.sotw(channel, "default.web-1.demo", null)) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
      Status status = ads.closed.get(20, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).contains("service account token: missing");
      assertThat(ads.responses).isEmpty();
    }
    assertThat(apiServer.getKubernetesMockServer().getRequestCount()).isEqualTo(before);
  }

  @Test
  void aDataplaneTokenIsNoServiceAccountToken() throws Exception {
    fake.push(view("web-1.demo"));
    try (AdsClient ads = AdsClient.sotw(channel, "default.web-1.demo", fake.token("default", "web-1.demo", "t-k8s"))) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
      assertThat(ads.closed.get(20, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(ads.responses).isEmpty();
    }
  }
}
