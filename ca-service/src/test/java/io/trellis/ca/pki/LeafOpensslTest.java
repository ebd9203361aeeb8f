package io.trellis.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.LocalCaBackend;
import io.trellis.ca.Identity;
import io.trellis.ca.testing.Csrs;
import io.trellis.ca.testing.Openssl;
import io.trellis.ca.testing.TestCas;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leaves as the real {@code openssl} sees them. */
class LeafOpensslTest {
  @TempDir
  Path dir;

  static Identity identity() throws Exception {
    return Identity.of("default", List.of(
        Map.entry("kuma.io/service", "web"), Map.entry("kuma.io/service", "web-admin"), Map.entry("version", "v1")));
  }

  @Test
  void builtinLeafVerifiesAgainstTheRootAndCarriesTheIdentity() throws Exception {
    LocalCaBackend backend = new LocalCaBackend("ca-1", "builtin", BuiltinCa.loadOrCreate(dir.resolve("ca"), "default", null));
    Instant before = Instant.now();
    CaBackend.Issued issued = backend.issue(identity(), CsrCheck.check(Csrs.csr(Csrs.p256()), identity().uris()),
        Duration.ofHours(24));

    String bundle = Pem.certificates(backend.trustAnchors());
    Openssl.Result r = Openssl.verify(dir, bundle, issued.chainPem(), issued.leafPem(), "-purpose", "sslclient");
    assertThat(r.output()).contains("OK");
    assertThat(r.exit()).isZero();
    assertThat(Openssl.verify(dir, bundle, issued.chainPem(), issued.leafPem(), "-purpose", "sslserver").exit()).isZero();

    X509Certificate leaf = Pem.readCertificates(issued.leafPem()).get(0);
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.17"); // SAN critical: the subject is empty
    assertThat(leaf.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1)).containsExactly(
        "spiffe://default/web", "spiffe://default/web-admin",
        "kuma://kuma.io/service/web", "kuma://kuma.io/service/web-admin", "kuma://version/v1");
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), before)).isBetween(Duration.ofSeconds(55), Duration.ofSeconds(65));
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(24).plusMinutes(1));
  }

  @Test
  void leafOfAnotherMeshRootDoesNotVerify() throws Exception {
    LocalCaBackend a = new LocalCaBackend("a", "builtin", BuiltinCa.create("default", null));
    LocalCaBackend b = new LocalCaBackend("b", "builtin", BuiltinCa.create("other", null));
    CaBackend.Issued issued = a.issue(identity(), CsrCheck.check(Csrs.csr(Csrs.p256()), identity().uris()), Duration.ofHours(1));
    Openssl.Result r = Openssl.verify(dir, Pem.certificates(b.trustAnchors()), null, issued.leafPem());
    assertThat(r.exit()).isNotZero();
  }

  @Test
  void providedIntermediateLeafVerifiesWithItsChain() throws Exception {
    TestCas.Ca root = TestCas.root("Corp Root");
    TestCas.Ca inter = TestCas.intermediate("Corp Mesh CA", root);
    LocalCaBackend backend = new LocalCaBackend("corp", "provided",
        new CaMaterial(inter.cert(), inter.keys().getPrivate(), List.of(root.cert())));
    CaBackend.Issued issued = backend.issue(identity(), CsrCheck.check(Csrs.csr(Csrs.p256()), identity().uris()),
        Duration.ofHours(1));
    assertThat(issued.chainPem()).isEqualTo(Pem.certificate(inter.cert()));
    String bundle = Pem.certificates(backend.trustAnchors());
    assertThat(bundle).isEqualTo(Pem.certificate(root.cert()));
    assertThat(Openssl.verify(dir, bundle, issued.chainPem(), issued.leafPem()).exit()).isZero();
    // without the chain the leaf cannot be verified: the chain is needed and included
    assertThat(Openssl.verify(dir, bundle, null, issued.leafPem()).exit()).isNotZero();
  }

  static Map.Entry<String, String> e(String k, String v) {
    return new AbstractMap.SimpleImmutableEntry<>(k, v);
  }
}
