package io.trellis.ca.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.trellis.api.model.DataSource;
import io.trellis.api.model.MeshSpec;
import io.trellis.ca.Identity;
import io.trellis.ca.SignRefused;
import io.trellis.ca.backend.BackendConfigException;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.DataSources;
import io.trellis.ca.pki.CsrCheck;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.Csrs;
import io.trellis.ca.testing.Openssl;
import io.trellis.ca.testing.TestCas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vault backend against a strict HTTPS fake of Vault's API. */
class VaultBackendVaultFakeIT {
  @TempDir
  Path dir;

  FakeVault vault;
  final DataSources sources = new DataSources((m, n) -> Optional.empty());
  final VaultBackends backends = new VaultBackends(Duration.ofSeconds(2), null);

  @BeforeEach
  void start() throws Exception {
    vault = new FakeVault("kuma-pki-default", "dataplane-proxies", false, null);
  }

  @AfterEach
  void stop() {
    vault.close();
  }

  static DataSource inline(String s) {
    return new DataSource(null, null, null, s);
  }

  MeshSpec.VaultConf conf(MeshSpec.VaultAuth auth, String caPem) {
    return new MeshSpec.VaultConf(new MeshSpec.FromCp(vault.address(), null, null, vault.mount, vault.role, null,
        new MeshSpec.VaultTls(caPem == null ? null : inline(caPem), null, null, null, null), auth));
  }

  MeshSpec.VaultAuth tokenAuth(String token) {
    return new MeshSpec.VaultAuth(inline(token), null, null, null);
  }

  static Identity identity() throws SignRefused {
    return Identity.of("default", List.of(Map.entry("kuma.io/service", "web"), Map.entry("version", "v1")));
  }

  CaBackend.Issued sign(CaBackend backend) throws SignRefused {
    return backend.issue(identity(), CsrCheck.check(Csrs.csr(Csrs.p256()), identity().uris()), Duration.ofHours(24));
  }

  @Test
  void tokenAuthSignsALeafThatOpensslVerifiesAgainstVaultsRoot() throws Exception {
    CaBackend backend = backends.create("default", "vault-1", conf(tokenAuth(vault.token), vault.serverCaPem()), sources);
    assertThat(backend.trustAnchors()).containsExactly(vault.pkiRoot.cert());
    CaBackend.Issued issued = sign(backend);
    assertThat(issued.chainPem()).isEqualTo(Pem.certificate(vault.pkiIssuer.cert()));
    Openssl.Result r = Openssl.verify(dir, Pem.certificates(backend.trustAnchors()), issued.chainPem(), issued.leafPem());
    assertThat(r.output()).contains("OK");
    assertThat(r.exit()).isZero();
    X509Certificate leaf = Pem.readCertificates(issued.leafPem()).get(0);
    assertThat(leaf.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1))
        .containsExactly("spiffe://default/web", "kuma://kuma.io/service/web", "kuma://version/v1");
    assertThat(vault.signBodies).hasSize(1);
    assertThat(vault.signBodies.get(0).path("common_name").asText()).isEqualTo("web");
    assertThat(FakeVault.ttl(vault.signBodies.get(0).path("ttl"))).isEqualTo(Duration.ofHours(24));
    assertThat(vault.errors).isEmpty();
  }

  @Test
  void badTokenIsUnavailableWithVaultsReason() throws Exception {
    CaBackend backend = backends.create("default", "vault-1", conf(tokenAuth("s.wrong"), vault.serverCaPem()), sources);
    assertThatThrownBy(() -> sign(backend)).isInstanceOfSatisfying(SignRefused.class, e -> {
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getMessage()).contains("403").contains("permission denied");
    });
  }

  @Test
  void serverErrorsAndTimeoutsAreUnavailableNeverAFallback() throws Exception {
    CaBackend backend = backends.create("default", "vault-1", conf(tokenAuth(vault.token), vault.serverCaPem()), sources);
    vault.failWith = 503;
    assertThatThrownBy(() -> sign(backend)).isInstanceOfSatisfying(SignRefused.class, e -> {
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getMessage()).contains("503");
    });
    vault.failWith = 0;
    vault.delay = Duration.ofSeconds(5);
    long start = System.nanoTime();
    assertThatThrownBy(() -> sign(backend)).isInstanceOfSatisfying(SignRefused.class,
        e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void vaultDownAtLoadIsATransientError() throws Exception {
    vault.failWith = 500;
    assertThatThrownBy(() -> backends.create("default", "v", conf(tokenAuth(vault.token), vault.serverCaPem()), sources))
        .isInstanceOf(IOException.class).isNotInstanceOf(BackendConfigException.class).hasMessageContaining("HTTP 500");
  }

  @Test
  void tlsIsVerifiedAgainstTheConfiguredCa() {
    String otherCa = Pem.certificate(TestCas.root("Not the Vault CA").cert());
    assertThatThrownBy(() -> backends.create("default", "v", conf(tokenAuth(vault.token), otherCa), sources))
        .isInstanceOf(IOException.class).hasMessageContaining("TLS failed");
    MeshSpec.VaultConf skip = new MeshSpec.VaultConf(new MeshSpec.FromCp(vault.address(), null, null, vault.mount,
        vault.role, null, new MeshSpec.VaultTls(null, true, null, null, null), tokenAuth(vault.token)));
    assertThatThrownBy(() -> backends.create("default", "v", skip, sources))
        .isInstanceOf(BackendConfigException.class).hasMessageContaining("tls.skipVerify");
  }

  @Test
  void kubernetesServiceAccountLogin() throws Exception {
    Path saToken = Files.writeString(dir.resolve("token"), vault.kubernetesJwt);
    MeshSpec.VaultAuth auth = new MeshSpec.VaultAuth(null, null, null,
        new MeshSpec.VaultKubernetesAuth(vault.kubernetesRole, saToken.toString()));
    CaBackend backend = backends.create("default", "vault-k8s", conf(auth, vault.serverCaPem()), sources);
    CaBackend.Issued issued = sign(backend);
    assertThat(Openssl.verify(dir, Pem.certificates(backend.trustAnchors()), issued.chainPem(), issued.leafPem()).exit()).isZero();
    assertThat(vault.errors).isEmpty();

    Files.writeString(saToken, "someone-else");
    MeshSpec.VaultAuth wrong = new MeshSpec.VaultAuth(null, null, null,
        new MeshSpec.VaultKubernetesAuth(vault.kubernetesRole, saToken.toString()));
    CaBackend refused = backends.create("default", "vault-k8s", conf(wrong, vault.serverCaPem()), sources);
    assertThatThrownBy(() -> sign(refused)).isInstanceOfSatisfying(SignRefused.class,
        e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void tlsClientCertificateLogin() throws Exception {
    TestCas.Ca clientCa = TestCas.root("Vault client CA");
    FakeVault mtls = new FakeVault("pki", "role", true, clientCa.cert());
    try {
      var clientKeys = Csrs.p256();
      X509Certificate clientCert = TestCas.cert("trellis-ca", clientCa.cert().getSubjectX500Principal().getName(),
          clientKeys, clientCa.keys().getPrivate(), false, 0, Duration.ofDays(1));
      MeshSpec.VaultAuth auth = new MeshSpec.VaultAuth(null,
          new MeshSpec.VaultTlsAuth(inline(Pem.certificate(clientCert)), inline(Pem.privateKey(clientKeys.getPrivate()))),
          null, null);
      MeshSpec.VaultConf conf = new MeshSpec.VaultConf(new MeshSpec.FromCp(mtls.address(), null, null, "pki", "role",
          null, new MeshSpec.VaultTls(inline(mtls.serverCaPem()), null, null, null, null), auth));
      CaBackend backend = backends.create("default", "vault-tls", conf, sources);
      CaBackend.Issued issued = sign(backend);
      assertThat(Openssl.verify(dir, Pem.certificates(backend.trustAnchors()), issued.chainPem(), issued.leafPem()).exit())
          .isZero();
      assertThat(mtls.errors).isEmpty();
    } finally {
      mtls.close();
    }
  }
}
