package io.trellis.ca.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;

/**
 * Issues workload leaves under one local CA. The leaf has an empty subject (identity lives in the
 * URI SANs, which are therefore critical, RFC 5280 4.2.1.6), EKU serverAuth + clientAuth, is not a
 * CA, and is back-dated a little so that proxies with a slightly late clock accept it at once.
 *
 * <p>Hot path: everything that is the same for every leaf of this CA (issuer name, signature
 * algorithm, the constant extensions) is encoded once here; a leaf is those bytes plus its serial,
 * validity, the CSR's public key as received, its key id and SANs, signed by a per-thread signer.
 * {@code LeafSignerTest} holds the result byte for byte against BouncyCastle's certificate builder.
 */
public final class LeafSigner {
  public static final Duration BACKDATE = Duration.ofMinutes(1);
  private static final byte[] VERSION_3 = {(byte) 0xA0, 0x03, 0x02, 0x01, 0x02};
  private static final byte[] EMPTY_NAME = {0x30, 0x00};
  private static final byte[] CRITICAL = {0x01, 0x01, (byte) 0xFF};
  private static final byte[] SKI_OID = encoded(Extension.subjectKeyIdentifier);
  private static final byte[] SAN_OID = encoded(Extension.subjectAlternativeName);

  private final CaMaterial ca;
  private final Instant caNotAfter;
  private final String chainPem;
  private final byte[] sigAlg;
  private final byte[] issuer;
  private final byte[] constantExtensions;
  private final ThreadLocal<Signing> signing;

  public LeafSigner(CaMaterial ca) {
    this.ca = ca;
    try {
      X509CertificateHolder holder = new JcaX509CertificateHolder(ca.cert());
      // the issuer exactly as the CA certificate spells its subject: chains are matched on these bytes
      this.issuer = ca.cert().getSubjectX500Principal().getEncoded();
      SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(holder.getExtensions());
      byte[] keyId = ski != null ? ski.getKeyIdentifier() : sha1(holder.getSubjectPublicKeyInfo());
      AlgorithmIdentifier alg = new DefaultSignatureAlgorithmIdentifierFinder().find(Crypto.signatureAlgorithm(ca.key()));
      this.sigAlg = alg.getEncoded(ASN1Encoding.DER);
      this.constantExtensions = concat(
          new Extension(Extension.basicConstraints, true, new BasicConstraints(false).getEncoded()).getEncoded(ASN1Encoding.DER),
          new Extension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement).getEncoded())
              .getEncoded(ASN1Encoding.DER),
          new Extension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}).getEncoded())
              .getEncoded(ASN1Encoding.DER),
          new Extension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyId).getEncoded())
              .getEncoded(ASN1Encoding.DER));
    } catch (CertificateEncodingException | IOException e) {
      throw new IllegalArgumentException("CA certificate cannot be encoded", e);
    }
    this.caNotAfter = ca.cert().getNotAfter().toInstant();
    this.chainPem = Pem.certificates(ca.leafChain());
    this.signing = ThreadLocal.withInitial(this::newSigning);
    signing.get(); // a CA key that cannot sign fails here, when the backend loads
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
    try {
      return sign(publicKey.getEncoded(ASN1Encoding.DER), uris, lifetime);
    } catch (IOException e) {
      throw new IllegalArgumentException("public key cannot be encoded", e);
    }
  }

  /** @param spki the DER SubjectPublicKeyInfo the leaf certifies (as checked in the CSR) */
  public Leaf sign(byte[] spki, Collection<String> uris, Duration lifetime) {
    Instant now = Instant.now();
    Instant notBefore = now.minus(BACKDATE);
    Instant notAfter = now.plus(lifetime);
    if (notAfter.isAfter(caNotAfter)) {
      // a leaf outliving its CA would fail validation at the end anyway; make it visible in its dates
      notAfter = caNotAfter;
    }
    // certificates carry whole seconds: report the dates the leaf really has
    notBefore = Instant.ofEpochSecond(notBefore.getEpochSecond());
    notAfter = Instant.ofEpochSecond(notAfter.getEpochSecond());
    byte[] tbs = tbs(Crypto.serial(), notBefore, notAfter, spki, uris);
    byte[] signature = signing.get().sign(tbs);
    byte[] bits = new byte[signature.length + 1]; // leading 0: no unused bits
    System.arraycopy(signature, 0, bits, 1, signature.length);
    return new Leaf(Der.tlv(Der.SEQUENCE, tbs, sigAlg, Der.tlv(Der.BIT_STRING, bits)), notBefore, notAfter);
  }

  /** The TBSCertificate of a leaf (RFC 5280 4.1), DER. */
  byte[] tbs(BigInteger serial, Instant notBefore, Instant notAfter, byte[] spki, Collection<String> uris) {
    byte[][] names = new byte[uris.size()][];
    int i = 0;
    for (String u : uris) {
      names[i++] = Der.tlv(0x86, u.getBytes(StandardCharsets.US_ASCII)); // [6] uniformResourceIdentifier, IA5String
    }
    byte[] san = Der.tlv(Der.SEQUENCE, SAN_OID, CRITICAL, Der.tlv(Der.OCTET_STRING, Der.tlv(Der.SEQUENCE, names)));
    byte[] ski = Der.tlv(Der.SEQUENCE, SKI_OID,
        Der.tlv(Der.OCTET_STRING, Der.tlv(Der.OCTET_STRING, sha1OfKeyBits(spki))));
    byte[] extensions = Der.tlv(0xA3, Der.tlv(Der.SEQUENCE, constantExtensions, ski, san));
    byte[] validity = Der.tlv(Der.SEQUENCE, Der.time(notBefore.getEpochSecond()), Der.time(notAfter.getEpochSecond()));
    return Der.tlv(Der.SEQUENCE, VERSION_3, encoded(new ASN1Integer(serial)), sigAlg, issuer, validity, EMPTY_NAME, spki,
        extensions);
  }

  // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value (without the unused-bits octet)
  private static byte[] sha1OfKeyBits(byte[] spki) {
    int alg = Der.contentStart(spki, 0);
    int bitString = Der.end(spki, alg);
    int bits = Der.contentStart(spki, bitString) + 1;
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      sha1.update(spki, bits, Der.end(spki, bitString) - bits);
      return sha1.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha1(SubjectPublicKeyInfo spki) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(spki.getPublicKeyData().getBytes());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs TBS bytes; one per thread, reused for every leaf (signers are stateful, not thread-safe). */
  private interface Signing {
    byte[] sign(byte[] tbs);
  }

  private Signing newSigning() {
    String alg = Crypto.signatureAlgorithm(ca.key());
    if (ca.key() instanceof java.security.interfaces.ECKey) {
      // EC CA keys sign through BouncyCastle's lightweight ECDSA, key decoded once per thread
      try {
        ECPrivateKeyParameters key = (ECPrivateKeyParameters) PrivateKeyFactory.createKey(ca.key().getEncoded());
        ECDSASigner ecdsa = new ECDSASigner();
        ecdsa.init(true, new ParametersWithRandom(key, Crypto.random()));
        MessageDigest digest = MessageDigest.getInstance(alg.startsWith("SHA384") ? "SHA-384" : "SHA-256");
        BigInteger n = key.getParameters().getN();
        return tbs -> {
          BigInteger[] rs = ecdsa.generateSignature(digest.digest(tbs));
          try {
            return StandardDSAEncoding.INSTANCE.encode(n, rs[0], rs[1]);
          } catch (IOException e) {
            throw new IllegalStateException("encoding an ECDSA signature", e);
          }
        };
      } catch (IOException | NoSuchAlgorithmException e) {
        throw new IllegalArgumentException("CA key cannot be used for ECDSA", e);
      }
    }
    ContentSigner signer = Crypto.signer(ca.key());
    return tbs -> {
      try {
        signer.getOutputStream().write(tbs);
      } catch (IOException e) {
        throw new IllegalStateException("signing", e);
      }
      return signer.getSignature();
    };
  }

  private static byte[] encoded(org.bouncycastle.asn1.ASN1Object o) {
    try {
      return o.getEncoded(ASN1Encoding.DER);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] concat(byte[]... parts) {
    int len = 0;
    for (byte[] p : parts) {
      len += p.length;
    }
    byte[] out = new byte[len];
    int pos = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, pos, p.length);
      pos += p.length;
    }
    return out;
  }
}
