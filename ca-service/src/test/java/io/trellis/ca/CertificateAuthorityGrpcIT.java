package io.trellis.ca;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.ca.v1.TrustBundleRequest;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.Await;
import io.trellis.ca.testing.CaClient;
import io.trellis.ca.testing.Csrs;
import io.trellis.ca.testing.FakePolicyResource;
import io.trellis.ca.testing.Openssl;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CertificateAuthority gRPC contract, with a real client, against meshes from a fake policy-service. */
@QuarkusTest
@QuarkusTestResource(FakePolicyResource.class)
class CertificateAuthorityGrpcIT {
  @TestHTTPResource
  URL url;

  CaClient client;

  @BeforeEach
  void connect() throws Exception {
    client = new CaClient(url);
    Await.until("ca-service ready", Duration.ofSeconds(30),
        () -> given().get("/q/health/ready").statusCode() == 200);
  }

  @AfterEach
  void close() throws Exception {
    client.close();
  }

  String token() {
    return FakePolicyResource.serviceToken;
  }

  @Test
  void anonymousAndUnknownCallersGetNothing() {
    String csr = Csrs.csr(Csrs.p256());
    assertThatThrownBy(() -> client.ca(null).sign(CaClient.request("default", csr, "kuma.io/service", "web")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(() -> client.ca("not-the-token-not-the-token-not-the-token")
            .getTrustBundle(TrustBundleRequest.newBuilder().setMesh("default").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void builtinLeafPassesOpensslVerifyAgainstTheReturnedBundle() throws Exception {
    SignResponse r = client.ca(token()).sign(CaClient.request("default", Csrs.csr(Csrs.p256()),
        "kuma.io/service", "web", "version", "v1"));
    assertThat(r.getBackend()).isEqualTo("ca-1");
    Path dir = Files.createTempDirectory("verify");
    Openssl.Result v = Openssl.verify(dir, r.getTrustBundlePem(), r.getChainPem(), r.getLeafPem());
    assertThat(v.output()).contains("OK");
    assertThat(v.exit()).isZero();
    X509Certificate leaf = Pem.readCertificates(r.getLeafPem()).get(0);
    assertThat(leaf.getNotAfter().toInstant().getEpochSecond()).isEqualTo(r.getNotAfterUnix());
    assertThat(leaf.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1))
        .containsExactly("spiffe://default/web", "kuma://kuma.io/service/web", "kuma://version/v1");
    // the root is durable in the data directory: a restart (or a second replica) signs with it
    String onDisk = Files.readString(FakePolicyResource.dataDir.resolve("ca/default/ca-1/ca.pem"));
    assertThat(onDisk).startsWith(r.getTrustBundlePem());
    assertThat(given().get("/q/metrics").asString())
        .contains("trellis_ca_certificates_issued_total{backend=\"ca-1\",mesh=\"default\"}")
        .contains("trellis_ca_issuance_latency_seconds_bucket")
        .contains("trellis_ca_root_expiry_seconds{backend=\"ca-1\",mesh=\"default\"}");
  }

  @Test
  void refusalsCarryTheirReason() {
    String csr = Csrs.csr(Csrs.p256());
    assertRefused(() -> client.ca(token()).sign(CaClient.request("nope", csr, "kuma.io/service", "web")),
        Status.Code.INVALID_ARGUMENT, "mesh: \"nope\" not found");
    assertRefused(() -> client.ca(token()).sign(CaClient.request("plain", csr, "kuma.io/service", "web")),
        Status.Code.INVALID_ARGUMENT, "has no mTLS enabled");
    assertRefused(() -> client.ca(token()).sign(CaClient.request("default", csr, "version", "v1")),
        Status.Code.INVALID_ARGUMENT, "no kuma.io/service tag");
    assertRefused(() -> client.ca(token()).sign(CaClient.request("default",
            Csrs.csr(Csrs.p256(), List.of(Csrs.uri("spiffe://default/admin")), false), "kuma.io/service", "web")),
        Status.Code.INVALID_ARGUMENT, "differ from the identity asked for");
    assertRefused(() -> client.ca(token()).sign(CaClient.request("default",
            Csrs.csr(Csrs.p256(), List.of(), true), "kuma.io/service", "web")),
        Status.Code.INVALID_ARGUMENT, "asks for a CA certificate");
    assertThat(given().get("/q/metrics").asString())
        .contains("trellis_ca_refusals_total{mesh=\"default\",reason=\"san_mismatch\"}")
        .contains("trellis_ca_refusals_total{mesh=\"nope\",reason=\"unknown_mesh\"}");
  }

  @Test
  void enabledBackendDownIsUnavailableAndNoOtherBackendSignsInstead() throws Exception {
    // Vault unreachable (nothing listens on port 1); the mesh's other backend loads fine
    String mesh = """
        {"type":"Mesh","name":"vault-down","mtls":{"enabledBackend":"vault-1","backends":[
          {"name":"builtin-1","type":"builtin"},
          {"name":"vault-1","type":"vault","conf":{"fromCp":{"address":"http://127.0.0.1:1","pki":"kuma-pki","role":"dp",
            "auth":{"token":{"inlineString":"s.token"}}}}}]}}""";
    setMeshes(mesh);
    try {
      Await.until("builtin-1 in the bundle", Duration.ofSeconds(20), () -> bundleOrNull("vault-down") != null
          && bundleOrNull("vault-down").getRootsPem().contains("BEGIN"));
      Await.until("vault-1 failed at least once", Duration.ofSeconds(20),
          () -> given().get("/q/metrics").asString().contains("trellis_ca_backend_errors_total{backend=\"vault-1\",mesh=\"vault-down\",type=\"vault\"}"));
      String csr = Csrs.csr(Csrs.p256());
      assertRefused(() -> client.ca(token()).sign(CaClient.request("vault-down", csr, "kuma.io/service", "web")),
          Status.Code.UNAVAILABLE, "mesh \"vault-down\": backend \"vault-1\" is not loaded");
      // retried with backoff meanwhile, and the service says it is not ready
      given().get("/q/health/ready").then().statusCode(503);
      assertThat(given().get("/q/metrics").asString())
          .contains("trellis_ca_refusals_total{mesh=\"vault-down\",reason=\"backend_unavailable\"}")
          .doesNotContain("trellis_ca_certificates_issued_total{backend=\"builtin-1\"");
    } finally {
      FakePolicyResource.policy.set("Mesh", List.of(FakePolicyResource.DEFAULT_MESH, FakePolicyResource.PLAIN_MESH));
    }
  }

  @Test
  void rotationSecondBackendAddedThenEnabled() throws Exception {
    String one = """
        {"type":"Mesh","name":"rotating","mtls":{"enabledBackend":"old","backends":[{"name":"old","type":"builtin"}]}}""";
    String two = """
        {"type":"Mesh","name":"rotating","mtls":{"enabledBackend":"old","backends":[
          {"name":"old","type":"builtin"},
          {"name":"new","type":"builtin","conf":{"caCert":{"RSAbits":2048}},"dpCert":{"rotation":{"expiration":"2h"}}}]}}""";
    String enabled = two.replace("\"enabledBackend\":\"old\"", "\"enabledBackend\":\"new\"");
    setMeshes(one);
    Await.until("mesh rotating", Duration.ofSeconds(20), () -> bundleOrNull("rotating") != null
        && bundleOrNull("rotating").getRootsPem().contains("BEGIN"));

    BlockingQueue<TrustBundle> updates = new LinkedBlockingQueue<>();
    client.caAsync(token()).watchTrustBundle(TrustBundleRequest.newBuilder().setMesh("rotating").build(), collect(updates));
    TrustBundle first = updates.poll(10, TimeUnit.SECONDS);
    assertThat(first.getBackendsList()).containsExactly("old");
    assertThat(Pem.readCertificates(first.getRootsPem())).hasSize(1);

    setMeshes(two);
    TrustBundle both = awaitBundle(updates, b -> b.getRootsPem().split("BEGIN CERTIFICATE").length == 3);
    assertThat(both.getBackendsList()).containsExactly("old", "new");
    assertThat(both.getEnabledBackend()).isEqualTo("old");
    assertThat(both.getVersion()).isGreaterThan(first.getVersion());
    String csr = Csrs.csr(Csrs.p256());
    assertThat(client.ca(token()).sign(CaClient.request("rotating", csr, "kuma.io/service", "web")).getBackend())
        .isEqualTo("old");

    setMeshes(enabled);
    TrustBundle switched = awaitBundle(updates, b -> b.getEnabledBackend().equals("new"));
    assertThat(switched.getRootsPem()).isEqualTo(both.getRootsPem());
    SignResponse r = client.ca(token()).sign(CaClient.request("rotating", csr, "kuma.io/service", "web"));
    assertThat(r.getBackend()).isEqualTo("new");
    assertThat(r.getNotAfterUnix() - r.getNotBeforeUnix()).isEqualTo(Duration.ofHours(2).plusMinutes(1).toSeconds());
    X509Certificate newRoot = Pem.readCertificates(switched.getRootsPem()).get(1);
    Pem.readCertificates(r.getLeafPem()).get(0).verify(newRoot.getPublicKey());
    assertThat(Openssl.verify(Files.createTempDirectory("rot"), r.getTrustBundlePem(), r.getChainPem(), r.getLeafPem()).exit())
        .isZero();
  }

  @Test
  void meshWatcherResumesAfterPolicyServiceDropsItsStreams() throws Exception {
    FakePolicyResource.policy.dropStreams();
    setMeshes("""
        {"type":"Mesh","name":"after-drop","mtls":{"enabledBackend":"b","backends":[{"name":"b","type":"builtin"}]}}""");
    // the re-opened stream starts with the full list, so the change made while disconnected arrives
    Await.until("mesh after-drop", Duration.ofSeconds(20), () -> bundleOrNull("after-drop") != null
        && bundleOrNull("after-drop").getRootsPem().contains("BEGIN"));
    assertThat(client.ca(token()).sign(CaClient.request("after-drop", Csrs.csr(Csrs.p256()), "kuma.io/service", "x"))
        .getBackend()).isEqualTo("b");
  }

  private void setMeshes(String extra) {
    FakePolicyResource.policy.set("Mesh", List.of(FakePolicyResource.DEFAULT_MESH, FakePolicyResource.PLAIN_MESH, extra));
  }

  private TrustBundle bundleOrNull(String mesh) {
    try {
      return client.ca(token()).getTrustBundle(TrustBundleRequest.newBuilder().setMesh(mesh).build());
    } catch (StatusRuntimeException e) {
      return null;
    }
  }

  static TrustBundle awaitBundle(BlockingQueue<TrustBundle> q, java.util.function.Predicate<TrustBundle> p)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      TrustBundle b = q.poll(1, TimeUnit.SECONDS);
      if (b != null && p.test(b)) {
        return b;
      }
    }
    throw new AssertionError("no matching trust bundle streamed");
  }

  static <T> StreamObserver<T> collect(BlockingQueue<T> q) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        q.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  static void assertRefused(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(message);
    });
  }
}
