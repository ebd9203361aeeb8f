package io.trellis.ca.pki;

import static io.trellis.ca.testing.Csrs.csr;
import static io.trellis.ca.testing.Csrs.dns;
import static io.trellis.ca.testing.Csrs.p256;
import static io.trellis.ca.testing.Csrs.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.trellis.ca.SignRefused;
import io.trellis.ca.testing.Csrs;
import java.security.KeyPair;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CsrCheckTest {
  static final Set<String> IDENTITY = new LinkedHashSet<>(List.of("spiffe://default/web", "kuma://kuma.io/service/web"));

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of("empty CSR", (Supplier<String>) () -> "", "bad_csr", "csr_pem: empty"),
        Arguments.of("not PEM", (Supplier<String>) () -> "hello", "bad_csr", "no CERTIFICATE REQUEST block"),
        Arguments.of("a certificate instead of a CSR",
            (Supplier<String>) () -> Pem.certificate(BuiltinCa.create("m", null).cert()), "bad_csr", "no CERTIFICATE REQUEST block"),
        Arguments.of("signature does not verify", (Supplier<String>) CsrCheckTest::tamperedCsr, "bad_signature", "signature"),
        Arguments.of("RSA 1024 is too weak", (Supplier<String>) () -> csr(Crypto.rsaKeyPair(1024)), "weak_key",
            "RSA key of 1024 bits (expected: at least 2048)"),
        Arguments.of("curve P-224 is refused", (Supplier<String>) () -> csr(Crypto.ecKeyPair("secp224r1")), "weak_key",
            "(expected: P-256 or P-384)"),
        Arguments.of("secp256k1 is refused", (Supplier<String>) () -> csr(Crypto.ecKeyPair("secp256k1")), "weak_key",
            "(expected: P-256 or P-384)"),
        Arguments.of("asking for a CA", (Supplier<String>) () -> csr(p256(), List.of(), true), "ca_requested",
            "basicConstraints CA:TRUE"),
        Arguments.of("a SPIFFE ID of another service", (Supplier<String>) () -> csr(p256(),
            List.of(uri("spiffe://default/admin"), uri("kuma://kuma.io/service/web")), false), "san_mismatch",
            "[spiffe://default/admin]"),
        Arguments.of("a DNS SAN", (Supplier<String>) () -> csr(p256(), List.of(dns("evil.example")), false), "san_mismatch",
            "SAN DNS:evil.example not allowed"),
        Arguments.of("fewer SANs than the identity", (Supplier<String>) () -> csr(p256(),
            List.of(uri("spiffe://default/web")), false), "san_mismatch", "differ from the identity"),
        Arguments.of("ECDSA with SHA-1", (Supplier<String>) () -> signedWith("SHA1withECDSA"), "bad_signature",
            "signature algorithm 1.2.840.10045.4.1 not accepted for an EC key"),
        Arguments.of("signed request info altered", (Supplier<String>) CsrCheckTest::alteredInfo, "bad_signature",
            "does not verify"),
        Arguments.of("no END line", (Supplier<String>) () -> csr(p256()).replace("-----END CERTIFICATE REQUEST-----", ""),
            "bad_csr", "no -----END CERTIFICATE REQUEST----- line"),
        Arguments.of("trailing bytes after the request", (Supplier<String>) CsrCheckTest::trailingBytes, "bad_csr",
            "not a valid PKCS#10 request"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refusedWithReason(String name, Supplier<String> csr, String reason, String message) {
    assertThatThrownBy(() -> CsrCheck.check(csr.get(), IDENTITY))
        .isInstanceOfSatisfying(SignRefused.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.reason()).isEqualTo(reason);
          assertThat(e.getMessage()).contains(message);
        });
  }

  static Stream<Arguments> accepted() {
    return Stream.of(
        Arguments.of("P-256 without SANs", Csrs.p256()),
        Arguments.of("P-384", Crypto.ecKeyPair("secp384r1")),
        Arguments.of("RSA 2048", Crypto.rsaKeyPair(2048)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("accepted")
  void accepted(String name, KeyPair keys) throws Exception {
    assertThat(CsrCheck.check(csr(keys), IDENTITY).publicKey().getEncoded()).isEqualTo(keys.getPublic().getEncoded());
  }

  @org.junit.jupiter.api.Test
  void theKeyIsPassedOnAsReceivedAndTheOldPemLabelIsAccepted() throws Exception {
    KeyPair keys = p256();
    String pem = csr(keys).replace("CERTIFICATE REQUEST-----", "NEW CERTIFICATE REQUEST-----");
    assertThat(CsrCheck.check(pem, IDENTITY).spkiDer()).isEqualTo(keys.getPublic().getEncoded());
  }

  @org.junit.jupiter.api.Test
  void sansExactlyTheIdentityAreAccepted() throws Exception {
    CsrCheck.check(csr(p256(), List.of(uri("kuma://kuma.io/service/web"), uri("spiffe://default/web")), false), IDENTITY);
  }

  private static String signedWith(String alg) {
    try {
      KeyPair keys = p256();
      var b = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
          new org.bouncycastle.asn1.x500.X500Name(""), keys.getPublic());
      return Pem.encode("CERTIFICATE REQUEST", b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(alg)
          .setProvider(Crypto.BC).build(keys.getPrivate())).getEncoded());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A byte of the subject (inside the signed CertificationRequestInfo) changed after signing. */
  private static String alteredInfo() {
    try {
      KeyPair keys = p256();
      var b = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
          new org.bouncycastle.asn1.x500.X500Name("CN=aaaa"), keys.getPublic());
      byte[] der = b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
          .setProvider(Crypto.BC).build(keys.getPrivate())).getEncoded();
      String hex = java.util.HexFormat.of().formatHex(der);
      int at = hex.indexOf("61616161") / 2;
      der[at] = 'b';
      return Pem.encode("CERTIFICATE REQUEST", der);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String trailingBytes() {
    byte[] der = Base64.getMimeDecoder().decode(csr(p256()).replaceAll("-----[A-Z ]+-----", ""));
    byte[] longer = java.util.Arrays.copyOf(der, der.length + 2);
    return Pem.encode("CERTIFICATE REQUEST", longer);
  }

  private static String tamperedCsr() {
    String pem = csr(p256());
    String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    byte[] der = Base64.getDecoder().decode(b64);
    der[der.length - 5] ^= 0x01; // inside the signature
    return Pem.encode("CERTIFICATE REQUEST", der);
  }
}
