package io.trellis.ca.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.trellis.api.model.MeshSpec;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Builtin roots in Kubernetes Secrets, against fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class KubernetesRootStoreCrudMockIT {
  static final String NS = "trellis-system";
  KubernetesClient client;
  KubernetesMockServer server;

  Secret stored(String name) {
    return client.secrets().inNamespace(NS).withName(name).get();
  }

  @Test
  void firstUseCreatesOneImmutableTlsSecretAndARestartReadsTheSameRoot() throws Exception {
    CaMaterial first = new KubernetesRootStore(client, NS).loadOrCreate("default", "ca-1", null);

    Secret s = stored("default.ca-builtin-cert-ca-1");
    assertThat(s).isNotNull();
    assertThat(s.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(s.getImmutable()).isTrue();
    assertThat(s.getMetadata().getAnnotations())
        .containsEntry("trellis.io/mesh", "default").containsEntry("trellis.io/ca-backend", "ca-1");
    String crt = new String(Base64.getDecoder().decode(s.getData().get("tls.crt")), StandardCharsets.US_ASCII);
    assertThat(Pem.readCertificates(crt).get(0)).isEqualTo(first.cert());

    // a restarted service (new store, new client) reads it back; different settings do not regenerate it
    KubernetesClient other = server.createClient();
    CaMaterial again = new KubernetesRootStore(other, NS).loadOrCreate("default", "ca-1", new MeshSpec.CaCert(4096, null));
    assertThat(again.cert()).isEqualTo(first.cert());
    assertThat(again.key().getEncoded()).isEqualTo(first.key().getEncoded());
    assertThat(client.secrets().inNamespace(NS).list().getItems()).hasSize(1);
  }

  @Test
  void eachMeshAndBackendHasItsOwnRoot() throws Exception {
    KubernetesRootStore store = new KubernetesRootStore(client, NS);
    CaMaterial a = store.loadOrCreate("default", "ca-1", null);
    CaMaterial b = store.loadOrCreate("default", "ca-2", new MeshSpec.CaCert(2048, null));
    CaMaterial c = store.loadOrCreate("other", "ca-1", null);
    assertThat(List.of(a.cert(), b.cert(), c.cert())).doesNotHaveDuplicates();
    assertThat(b.cert().getPublicKey()).isInstanceOf(RSAPublicKey.class);
    assertThat(client.secrets().inNamespace(NS).list().getItems()).extracting(x -> x.getMetadata().getName())
        .containsExactlyInAnyOrder("default.ca-builtin-cert-ca-1", "default.ca-builtin-cert-ca-2", "other.ca-builtin-cert-ca-1");
  }

  @Test
  void replicasRacingOnFirstUseEndWithTheSameRoot() throws Exception {
    int replicas = 6;
    ExecutorService pool = Executors.newFixedThreadPool(replicas);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<CaMaterial>> results = new ArrayList<>();
      for (int i = 0; i < replicas; i++) {
        KubernetesRootStore store = new KubernetesRootStore(server.createClient(), NS);
        Callable<CaMaterial> task = () -> {
          start.await();
          return store.loadOrCreate("race", "ca-1", null);
        };
        results.add(pool.submit(task));
      }
      start.countDown();
      List<CaMaterial> roots = new ArrayList<>();
      for (Future<CaMaterial> f : results) {
        roots.add(f.get(30, TimeUnit.SECONDS));
      }
      String crt = new String(Base64.getDecoder().decode(stored("race.ca-builtin-cert-ca-1").getData().get("tls.crt")),
          StandardCharsets.US_ASCII);
      assertThat(roots).extracting(CaMaterial::cert).containsOnly(Pem.readCertificates(crt).get(0));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theLoserOfACreateRaceGets409AndUsesTheWinnersRoot() throws Exception {
    // deterministic race: the Secret exists, but our first read still sees none (as if the winner
    // created it between our read and our create); our create then meets the API server's 409
    String name = "default.ca-builtin-cert-ca-1";
    KubernetesRootStore winnerStore = new KubernetesRootStore(client, NS);
    CaMaterial winner = winnerStore.loadOrCreate("default", "ca-1", null);
    server.expect().get().withPath("/api/v1/namespaces/" + NS + "/secrets/" + name).andReturn(404,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}").once();

    CaMaterial loser = new KubernetesRootStore(server.createClient(), NS).loadOrCreate("default", "ca-1", null);

    assertThat(loser.cert()).isEqualTo(winner.cert());
    assertThat(server.getRequestCount()).isGreaterThanOrEqualTo(4); // winner get+create, loser get(404)+create(409)+get
  }

  @Test
  void aSecretWhoseKeyDoesNotMatchIsRefusedAndLeftAlone() throws Exception {
    CaMaterial a = BuiltinCa.create("default", null);
    CaMaterial b = BuiltinCa.create("default", null);
    KubernetesRootStore store = new KubernetesRootStore(client, NS);
    Secret bad = store.secret("default.ca-builtin-cert-ca-1", "default", "ca-1", new CaMaterial(a.cert(), b.key(), List.of()));
    client.secrets().inNamespace(NS).resource(bad).create();

    assertThatThrownBy(() -> store.loadOrCreate("default", "ca-1", null))
        .isInstanceOf(IOException.class)
        .hasMessage("Secret trellis-system/default.ca-builtin-cert-ca-1: tls.key does not match tls.crt");
    assertThat(stored("default.ca-builtin-cert-ca-1").getData()).isEqualTo(bad.getData());
  }

  @Test
  void aSecretOfAnotherMeshOrWithoutDataIsRefused() throws Exception {
    KubernetesRootStore store = new KubernetesRootStore(client, NS);
    Secret foreign = store.secret("default.ca-builtin-cert-ca-1", "elsewhere", "ca-1", BuiltinCa.create("elsewhere", null));
    client.secrets().inNamespace(NS).resource(foreign).create();
    assertThatThrownBy(() -> store.loadOrCreate("default", "ca-1", null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("annotations trellis.io/mesh=elsewhere, trellis.io/ca-backend=ca-1 (expected: default, ca-1)");

    Map<String, String> annotations = new HashMap<>(Map.of("trellis.io/mesh", "m2", "trellis.io/ca-backend", "ca-1"));
    client.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("m2.ca-builtin-cert-ca-1")
        .withAnnotations(annotations).endMetadata().withType("kubernetes.io/tls").build()).create();
    assertThatThrownBy(() -> store.loadOrCreate("m2", "ca-1", null))
        .isInstanceOf(IOException.class)
        .hasMessage("Secret trellis-system/m2.ca-builtin-cert-ca-1: data.tls.crt missing (expected: PEM, base64-encoded)");
  }

  @Test
  void namesThatAreNotSecretNamesAreHashed() throws Exception {
    assertThat(KubernetesRootStore.secretName("default", "ca-1")).isEqualTo("default.ca-builtin-cert-ca-1");
    String hashed = KubernetesRootStore.secretName("my_mesh", "ca_1");
    assertThat(hashed).matches("trellis-ca-builtin-[0-9a-f]{20}");
    assertThat(KubernetesRootStore.secretName("my_mesh", "ca_2")).isNotEqualTo(hashed);

    CaMaterial root = new KubernetesRootStore(client, NS).loadOrCreate("my_mesh", "ca_1", null);
    assertThat(stored(hashed).getMetadata().getAnnotations()).containsEntry("trellis.io/mesh", "my_mesh");
    assertThat(new KubernetesRootStore(client, NS).loadOrCreate("my_mesh", "ca_1", null).cert()).isEqualTo(root.cert());
  }

  @Test
  void apiErrorsOtherThanConflictAreTransientIoErrors() {
    String name = "default.ca-builtin-cert-ca-1";
    server.expect().get().withPath("/api/v1/namespaces/" + NS + "/secrets/" + name).andReturn(403,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"secrets is forbidden\",\"reason\":\"Forbidden\",\"code\":403}")
        .once();
    assertThatThrownBy(() -> new KubernetesRootStore(client, NS).loadOrCreate("default", "ca-1", null))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("Secret trellis-system/default.ca-builtin-cert-ca-1: read failed (HTTP 403");
    assertThat(stored(name)).isNull();
  }
}
