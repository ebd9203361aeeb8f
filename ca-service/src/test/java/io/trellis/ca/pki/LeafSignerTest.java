package io.trellis.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.model.MeshSpec;
import io.trellis.ca.testing.Csrs;
import io.trellis.ca.testing.TestCas;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hand-assembled leaf is exactly what BouncyCastle's certificate builder makes of the same
 * fields (byte for byte), for each kind of CA key and for dates on both sides of 2050, and its
 * signature verifies with the CA key.
 */
class LeafSignerTest {
  static final List<String> URIS = List.of("spiffe://default/web", "kuma://kuma.io/service/web", "kuma://version/v1");

  static Stream<Arguments> cas() {
    return Stream.of(
        Arguments.of("builtin EC P-256", BuiltinCa.create("default", null)),
        Arguments.of("builtin RSA 2048", BuiltinCa.create("default", new MeshSpec.CaCert(2048, null))),
        Arguments.of("provided P-256 intermediate", intermediate()));
  }

  static CaMaterial intermediate() {
    TestCas.Ca root = TestCas.root("Corp Root");
    TestCas.Ca inter = TestCas.intermediate("Corp Mesh CA", root);
    return new CaMaterial(inter.cert(), inter.keys().getPrivate(), List.of(root.cert()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cas")
  void tbsIsByteForByteWhatTheBouncyCastleBuilderMakes(String name, CaMaterial ca) throws Exception {
    LeafSigner signer = new LeafSigner(ca);
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(Csrs.p256().getPublic().getEncoded());
    BigInteger serial = Crypto.serial();
    for (Instant notBefore : new Instant[] {Instant.parse("2026-11-23T11:00:07Z"), Instant.parse("2049-12-31T23:59:59Z"),
        Instant.parse("2050-01-01T00:00:00Z")}) {
      Instant notAfter = notBefore.plus(Duration.ofHours(24));
      byte[] ours = signer.tbs(serial, notBefore, notAfter, spki.getEncoded(ASN1Encoding.DER), URIS);
      assertThat(ours).as("TBS with notBefore %s", notBefore).isEqualTo(reference(ca, serial, notBefore, notAfter, spki));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cas")
  void signedLeafParsesAndVerifiesWithTheCaKey(String name, CaMaterial ca) throws Exception {
    LeafSigner.Leaf leaf = new LeafSigner(ca).sign(Csrs.p256().getPublic().getEncoded(), URIS, Duration.ofHours(2));
    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(leaf.der()));
    cert.verify(ca.cert().getPublicKey());
    assertThat(cert.getIssuerX500Principal()).isEqualTo(ca.cert().getSubjectX500Principal());
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(leaf.notAfter());
    assertThat(cert.getNotBefore().toInstant()).isEqualTo(leaf.notBefore());
    assertThat(Duration.between(leaf.notBefore(), leaf.notAfter())).isBetween(Duration.ofMinutes(120), Duration.ofMinutes(122));
    assertThat(cert.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1)).containsExactlyElementsOf(URIS);
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
  }

  /** The leaf as the previous implementation built it: BouncyCastle's X509v3CertificateBuilder. */
  static byte[] reference(CaMaterial ca, BigInteger serial, Instant notBefore, Instant notAfter, SubjectPublicKeyInfo spki)
      throws Exception {
    JcaX509CertificateHolder holder = new JcaX509CertificateHolder(ca.cert());
    SubjectKeyIdentifier caSki = SubjectKeyIdentifier.fromExtensions(holder.getExtensions());
    byte[] caKeyId = caSki != null ? caSki.getKeyIdentifier()
        : new JcaX509ExtensionUtils().createSubjectKeyIdentifier(holder.getSubjectPublicKeyInfo()).getKeyIdentifier();
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(holder.getSubject(), serial, Date.from(notBefore),
            Date.from(notAfter), new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), spki)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement))
        .addExtension(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
        .addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(caKeyId))
        .addExtension(Extension.subjectKeyIdentifier, false,
            new JcaX509ExtensionUtils().createSubjectKeyIdentifier(spki))
        .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(URIS.stream()
            .map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u)).toArray(GeneralName[]::new)));
    return b.build(Crypto.signer(ca.key())).toASN1Structure().getTBSCertificate().getEncoded(ASN1Encoding.DER);
  }
}
