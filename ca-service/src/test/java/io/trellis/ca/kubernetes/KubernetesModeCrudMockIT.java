package io.trellis.ca.kubernetes;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.ca.v1.TrustBundleRequest;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.Await;
import io.trellis.ca.testing.CaClient;
import io.trellis.ca.testing.Csrs;
import io.trellis.ca.testing.FakePolicyResource;
import io.trellis.ca.testing.Openssl;
import io.trellis.ca.testing.TestCas;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ca-service in Kubernetes mode against fabric8's mock API server (CRUD mode): builtin roots live
 * in Secrets of the control-plane namespace, provided CAs read Kuma Secrets from there.
 */
@QuarkusTest
@TestProfile(KubernetesModeCrudMockIT.KubernetesMode.class)
@WithKubernetesTestServer(crud = true)
@QuarkusTestResource(FakePolicyResource.class)
class KubernetesModeCrudMockIT {
  static final String NS = "trellis-system";

  public static class KubernetesMode implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("trellis.ca.kubernetes.enabled", "true", "trellis.ca.kubernetes.namespace", NS);
    }
  }

  @TestHTTPResource
  URL url;

  @Inject
  KubernetesClient kube;

  CaClient client;

  @BeforeEach
  void connect() throws Exception {
    client = new CaClient(url);
    Await.until("ca-service ready", Duration.ofSeconds(30), () -> given().get("/q/health/ready").statusCode() == 200);
  }

  @AfterEach
  void close() throws Exception {
    client.close();
  }

  TrustBundle bundleOrNull(String mesh) {
    try {
      return client.ca(FakePolicyResource.serviceToken).getTrustBundle(TrustBundleRequest.newBuilder().setMesh(mesh).build());
    } catch (StatusRuntimeException e) {
      return null;
    }
  }

  @Test
  void builtinRootLivesInASecretAndNotInTheDataDirectory() throws Exception {
    SignResponse r = client.ca(FakePolicyResource.serviceToken)
        .sign(CaClient.request("default", Csrs.csr(Csrs.p256()), "kuma.io/service", "web"));

    Secret s = kube.secrets().inNamespace(NS).withName("default.ca-builtin-cert-ca-1").get();
    assertThat(s).isNotNull();
    String crt = new String(Base64.getDecoder().decode(s.getData().get("tls.crt")), StandardCharsets.US_ASCII);
    assertThat(r.getTrustBundlePem()).isEqualTo(crt);
    assertThat(Files.exists(FakePolicyResource.dataDir.resolve("ca/default/ca-1/ca.pem"))).isFalse();
    Path dir = Files.createTempDirectory("verify");
    assertThat(Openssl.verify(dir, r.getTrustBundlePem(), r.getChainPem(), r.getLeafPem()).exit()).isZero();
  }

  @Test
  void providedIntermediateFromKumaSecretsInTheNamespace() throws Exception {
    TestCas.Ca root = TestCas.root("Corp Root");
    TestCas.Ca inter = TestCas.intermediate("Corp Mesh CA", root);
    String mesh = """
        {"type":"Mesh","name":"corp","mtls":{"enabledBackend":"prov","backends":[
          {"name":"prov","type":"provided","conf":{"cert":{"secret":"corp-ca-cert"},"key":{"secret":"corp-ca-key"}}}]}}""";
    FakePolicyResource.policy.set("Mesh", List.of(FakePolicyResource.DEFAULT_MESH, FakePolicyResource.PLAIN_MESH, mesh));
    try {
      // the Secrets arrive after the Mesh: the backend waits for them, then loads
      Thread.sleep(300);
      kube.secrets().inNamespace(NS).resource(kumaSecret("corp-ca-cert", "corp",
          Pem.certificate(inter.cert()) + Pem.certificate(root.cert()))).create();
      kube.secrets().inNamespace(NS).resource(kumaSecret("corp-ca-key", "corp", Pem.privateKey(inter.keys().getPrivate())))
          .create();
      Await.until("corp bundle", Duration.ofSeconds(20),
          () -> bundleOrNull("corp") != null && bundleOrNull("corp").getRootsPem().contains("BEGIN"));

      SignResponse r = client.ca(FakePolicyResource.serviceToken)
          .sign(CaClient.request("corp", Csrs.csr(Csrs.p256()), "kuma.io/service", "web"));
      assertThat(r.getBackend()).isEqualTo("prov");
      assertThat(Pem.readCertificates(r.getTrustBundlePem())).containsExactly(root.cert());
      assertThat(Pem.readCertificates(r.getChainPem())).containsExactly(inter.cert());
      Path dir = Files.createTempDirectory("verify");
      assertThat(Openssl.verify(dir, r.getTrustBundlePem(), r.getChainPem(), r.getLeafPem()).exit()).isZero();
      assertThat(Openssl.verify(dir, r.getTrustBundlePem(), null, r.getLeafPem()).exit()).isNotZero();
    } finally {
      FakePolicyResource.policy.set("Mesh", List.of(FakePolicyResource.DEFAULT_MESH, FakePolicyResource.PLAIN_MESH));
    }
  }

  static Secret kumaSecret(String name, String mesh, String value) {
    return new SecretBuilder().withNewMetadata().withName(name).withNamespace(NS).withLabels(Map.of("kuma.io/mesh", mesh))
        .endMetadata().withType("system.kuma.io/secret")
        .withData(Map.of("value", Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.US_ASCII)))).build();
  }
}
