package io.trellis.ca.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
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
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.bc.BcECContentSignerBuilder;

/**
 * Issues workload leaves under one local CA. The leaf has an empty subject (identity lives in the
 * URI SANs, which are therefore critical, RFC 5280 4.2.1.6), EKU serverAuth + clientAuth, is not a
 * CA, and is back-dated a little so that proxies with a slightly late clock accept it at once.
 */
public final class LeafSigner {
  public static final Duration BACKDATE = Duration.ofMinutes(1);
  private static final X500Name EMPTY = new X500Name(new org.bouncycastle.asn1.x500.RDN[0]);

  private final CaMaterial ca;
  private final X500Name issuer;
  private final AuthorityKeyIdentifier aki;
  private final Instant caNotAfter;
  private final String chainPem;
  private final AsymmetricKeyParameter ecKey;
  private final AlgorithmIdentifier ecAlg;

  public LeafSigner(CaMaterial ca) {
    this.ca = ca;
    try {
      X509CertificateHolder holder = new JcaX509CertificateHolder(ca.cert());
      this.issuer = holder.getSubject();
      SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(holder.getExtensions());
      byte[] keyId = ski != null ? ski.getKeyIdentifier() : sha1(holder.getSubjectPublicKeyInfo());
      this.aki = new AuthorityKeyIdentifier(keyId);
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("CA certificate cannot be encoded", e);
    }
    this.caNotAfter = ca.cert().getNotAfter().toInstant();
    this.chainPem = Pem.certificates(ca.leafChain());
    if (ca.key() instanceof java.security.interfaces.ECKey) {
      try {
        this.ecKey = PrivateKeyFactory.createKey(ca.key().getEncoded());
      } catch (IOException e) {
        throw new IllegalArgumentException("CA key cannot be decoded", e);
      }
      this.ecAlg = new DefaultSignatureAlgorithmIdentifierFinder().find(Crypto.signatureAlgorithm(ca.key()));
    } else {
      this.ecKey = null;
      this.ecAlg = null;
    }
  }

  /** A signed leaf, DER, with its validity. */
  public record Leaf(byte[] der, Instant notBefore, Instant notAfter) {
    public String pem() {
      return Pem.encode("CERTIFICATE", der);
    }
  }

  public CaMaterial ca() {
    return ca;
  }

  /** PEM of the certificates a leaf presents above itself (may be empty). */
  public String chainPem() {
    return chainPem;
  }

  public Leaf sign(SubjectPublicKeyInfo publicKey, Collection<String> uris, Duration lifetime) {
    Instant now = Instant.now();
    Instant notBefore = now.minus(BACKDATE);
    Instant notAfter = now.plus(lifetime);
    if (notAfter.isAfter(caNotAfter)) {
      // a leaf outliving its CA would fail validation at the end anyway; make it visible in its dates
      notAfter = caNotAfter;
    }
    GeneralName[] names = uris.stream()
        .map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u))
        .toArray(GeneralName[]::new);
    try {
      X509v3CertificateBuilder b = new X509v3CertificateBuilder(
              issuer, Crypto.serial(), Date.from(notBefore), Date.from(notAfter), EMPTY, publicKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.authorityKeyIdentifier, false, aki)
          .addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(sha1(publicKey)))
          .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      ContentSigner signer = signer();
      return new Leaf(b.build(signer).getEncoded(), notBefore, notAfter);
    } catch (IOException e) {
      throw new IllegalStateException("encoding the leaf", e);
    }
  }

  // EC CA keys sign through BouncyCastle's lightweight API with the key parameters decoded once.
  private ContentSigner signer() {
    if (ecKey == null) {
      return Crypto.signer(ca.key());
    }
    try {
      return new BcECContentSignerBuilder(ecAlg, new DefaultDigestAlgorithmIdentifierFinder().find(ecAlg)).build(ecKey);
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("EC signer", e);
    }
  }

  private static byte[] sha1(SubjectPublicKeyInfo spki) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(spki.getPublicKeyData().getBytes());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

}
