package io.trellis.ca.bench;

import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import java.io.StringReader;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
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
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.bc.BcECContentSignerBuilder;
import org.bouncycastle.operator.bc.BcECContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * The issuance path before the hand-assembled leaf (commit 24570ba), kept in the benchmark only as a
 * side-by-side reference: PEMParser, signature check over the re-encoded request info,
 * X509v3CertificateBuilder with Date-based times, a ContentSigner built per leaf.
 */
final class PreviousPath {
  private final X500Name issuer;
  private final AuthorityKeyIdentifier aki;
  private final AsymmetricKeyParameter key;
  private final AlgorithmIdentifier alg;

  PreviousPath(CaMaterial ca) throws Exception {
    X509CertificateHolder holder = new JcaX509CertificateHolder(ca.cert());
    issuer = holder.getSubject();
    aki = new AuthorityKeyIdentifier(SubjectKeyIdentifier.fromExtensions(holder.getExtensions()).getKeyIdentifier());
    key = PrivateKeyFactory.createKey(ca.key().getEncoded());
    alg = new DefaultSignatureAlgorithmIdentifierFinder().find(Crypto.signatureAlgorithm(ca.key()));
  }

  String issue(String csrPem, Collection<String> uris) throws Exception {
    PKCS10CertificationRequest csr;
    try (PEMParser parser = new PEMParser(new StringReader(csrPem))) {
      csr = (PKCS10CertificationRequest) parser.readObject();
    }
    SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
    if (!csr.isSignatureValid(new BcECContentVerifierProviderBuilder(new DefaultDigestAlgorithmIdentifierFinder())
        .build(PublicKeyFactory.createKey(spki)))) {
      throw new IllegalStateException("bad CSR");
    }
    csr.getRequestedExtensions();
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(issuer, Crypto.serial(), Date.from(now.minusSeconds(60)),
            Date.from(now.plus(Duration.ofHours(24))), new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), spki)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement))
        .addExtension(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
        .addExtension(Extension.authorityKeyIdentifier, false, aki)
        .addExtension(Extension.subjectKeyIdentifier, false,
            new SubjectKeyIdentifier(MessageDigest.getInstance("SHA-1").digest(spki.getPublicKeyData().getBytes())))
        .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(uris.stream()
            .map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u)).toArray(GeneralName[]::new)));
    return Pem.encode("CERTIFICATE", b.build(new BcECContentSignerBuilder(alg,
        new DefaultDigestAlgorithmIdentifierFinder().find(alg)).build(key)).getEncoded());
  }
}
