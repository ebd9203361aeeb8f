package io.trellis.ca.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.api.model.DataSource;
import io.trellis.api.model.MeshSpec;
import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.TestCas;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvidedCaTest {
  @TempDir
  Path dir;

  final TestCas.Ca root = TestCas.root("Corp Root");
  final Map<String, byte[]> secrets = new java.util.HashMap<>();
  final DataSources sources = new DataSources((mesh, name) -> Optional.ofNullable(secrets.get(mesh + "/" + name)));

  static DataSource inlineString(String s) {
    return new DataSource(null, null, null, s);
  }

  CaMaterial load(DataSource cert, DataSource key) throws Exception {
    return ProvidedCa.load("default", new MeshSpec.ProvidedConf(cert, key), sources);
  }

  @Test
  void rootFromEachKindOfDataSource() throws Exception {
    String certPem = Pem.certificate(root.cert());
    String keyPem = Pem.privateKey(root.keys().getPrivate());
    Path certFile = Files.writeString(dir.resolve("ca.crt"), certPem);
    secrets.put("default/ca-key", keyPem.getBytes(StandardCharsets.US_ASCII));
    CaMaterial fromFileAndSecret = load(new DataSource(null, certFile.toString(), null, null), DataSource.ofSecret("ca-key"));
    assertThat(fromFileAndSecret.cert()).isEqualTo(root.cert());
    String inline = Base64.getEncoder().encodeToString(certPem.getBytes(StandardCharsets.US_ASCII));
    CaMaterial fromInline = load(new DataSource(null, null, inline, null), inlineString(keyPem));
    assertThat(fromInline.anchor()).isEqualTo(root.cert());
    assertThat(fromInline.leafChain()).isEmpty();
  }

  @Test
  void intermediateWithChainIsAcceptedAndAnchoredAtTheRoot() throws Exception {
    TestCas.Ca inter = TestCas.intermediate("Mesh CA", root);
    CaMaterial m = load(inlineString(Pem.certificate(inter.cert()) + Pem.certificate(root.cert())),
        inlineString(Pem.privateKey(inter.keys().getPrivate())));
    assertThat(m.anchor()).isEqualTo(root.cert());
    assertThat(m.leafChain()).containsExactly(inter.cert());
  }

  @Test
  void notACaIsRefused() {
    TestCas.Ca leaf = TestCas.custom("leaf", false, KeyUsage.digitalSignature, Duration.ofDays(1));
    assertThatThrownBy(() -> load(inlineString(Pem.certificate(leaf.cert())), inlineString(Pem.privateKey(leaf.keys().getPrivate()))))
        .hasMessage("conf.cert: not a CA certificate (expected: basicConstraints CA:TRUE)");
  }

  @Test
  void caWithoutKeyCertSignIsRefused() {
    TestCas.Ca ca = TestCas.custom("ca", true, KeyUsage.digitalSignature, Duration.ofDays(1));
    assertThatThrownBy(() -> load(inlineString(Pem.certificate(ca.cert())), inlineString(Pem.privateKey(ca.keys().getPrivate()))))
        .hasMessageContaining("key usage lacks keyCertSign");
  }

  @Test
  void keyOfAnotherCaIsRefused() {
    TestCas.Ca other = TestCas.root("Other");
    assertThatThrownBy(() -> load(inlineString(Pem.certificate(root.cert())), inlineString(Pem.privateKey(other.keys().getPrivate()))))
        .hasMessage("conf.key: does not match the public key of conf.cert");
  }

  @Test
  void expiredCaIsRefused() {
    TestCas.Ca old = TestCas.custom("old", true, KeyUsage.keyCertSign, Duration.ofDays(-2));
    assertThatThrownBy(() -> load(inlineString(Pem.certificate(old.cert())), inlineString(Pem.privateKey(old.keys().getPrivate()))))
        .hasMessageContaining("is not valid now");
  }

  @Test
  void brokenChainIsRefused() {
    TestCas.Ca inter = TestCas.intermediate("Mesh CA", root);
    TestCas.Ca stranger = TestCas.root("Stranger");
    assertThatThrownBy(() -> load(inlineString(Pem.certificate(inter.cert()) + Pem.certificate(stranger.cert())),
            inlineString(Pem.privateKey(inter.keys().getPrivate()))))
        .hasMessageContaining("certificate 0 is not signed by certificate 1");
  }

  @Test
  void missingSecretAndGarbageAreNamed() {
    assertThatThrownBy(() -> load(DataSource.ofSecret("nope"), inlineString("x")))
        .hasMessage("conf.cert.secret: Secret \"nope\" not found in mesh \"default\"");
    assertThatThrownBy(() -> load(inlineString("garbage"), inlineString("x")))
        .hasMessageStartingWith("conf.cert: no PEM CERTIFICATE block");
    assertThatThrownBy(() -> load(new DataSource("a", "b", null, null), inlineString("x")))
        .hasMessageContaining("conf.cert: 2 sources set (expected: exactly one of");
  }
}
