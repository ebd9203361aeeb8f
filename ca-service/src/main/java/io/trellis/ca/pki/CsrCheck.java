package io.trellis.ca.pki;

import io.trellis.ca.SignRefused;
import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Checks a workload's PKCS#10 CSR before anything is signed. Fails closed: whatever cannot be
 * parsed or proven acceptable is refused with INVALID_ARGUMENT and the reason.
 */
public final class CsrCheck {
  private static final int MAX_PEM = 64 * 1024;
  private static final String[] LABELS = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"};

  private CsrCheck() {}

  /**
   * The checked CSR: its public key is what the leaf certifies.
   *
   * @param spkiDer the public key exactly as the CSR carries it (and as its signature covers it)
   */
  public record CheckedCsr(SubjectPublicKeyInfo publicKey, String csrPem, byte[] spkiDer) {}

  /** A parsed CSR with its DER, and where the signed part (CertificationRequestInfo) and the key lie in it. */
  record Parsed(PKCS10CertificationRequest csr, byte[] der, int infoStart, int infoEnd, int spkiStart, int spkiEnd) {}

  public static CheckedCsr check(String csrPem, Set<String> expectedUris) throws SignRefused {
    Parsed parsed = parse(csrPem);
    PKCS10CertificationRequest csr = parsed.csr();
    SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
    checkKey(spki);
    boolean valid;
    try {
      valid = spki.getAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
          ? verifyEcdsa(parsed, spki)
          : csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Crypto.BC).build(spki));
    } catch (PKCSException | org.bouncycastle.operator.OperatorCreationException | IOException | RuntimeException e) {
      throw SignRefused.invalid("bad_signature", "csr_pem: signature cannot be verified (" + e.getMessage() + ")");
    }
    if (!valid) {
      throw SignRefused.invalid("bad_signature", "csr_pem: signature does not verify with the CSR's public key");
    }
    checkExtensions(csr, expectedUris);
    return new CheckedCsr(spki, csrPem, Arrays.copyOfRange(parsed.der(), parsed.spkiStart(), parsed.spkiEnd()));
  }

  /**
   * ECDSA over the CertificationRequestInfo bytes as received (what the requester signed), with
   * BouncyCastle's lightweight ECDSA and the JDK's SHA-2: no re-encoding, no JCA key conversion.
   */
  private static boolean verifyEcdsa(Parsed p, SubjectPublicKeyInfo spki) throws IOException, SignRefused {
    ASN1ObjectIdentifier alg = p.csr().getSignatureAlgorithm().getAlgorithm();
    String digest = alg.equals(X9ObjectIdentifiers.ecdsa_with_SHA256) ? "SHA-256"
        : alg.equals(X9ObjectIdentifiers.ecdsa_with_SHA384) ? "SHA-384"
        : alg.equals(X9ObjectIdentifiers.ecdsa_with_SHA512) ? "SHA-512" : null;
    if (digest == null) {
      throw SignRefused.invalid("bad_signature", "csr_pem: signature algorithm " + alg
          + " not accepted for an EC key (expected: ecdsa-with-SHA256, -SHA384 or -SHA512)");
    }
    ECPublicKeyParameters key = (ECPublicKeyParameters) PublicKeyFactory.createKey(spki);
    byte[] hash;
    try {
      MessageDigest md = MessageDigest.getInstance(digest);
      md.update(p.der(), p.infoStart(), p.infoEnd() - p.infoStart());
      hash = md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    BigInteger[] rs = StandardDSAEncoding.INSTANCE.decode(key.getParameters().getN(), p.csr().getSignature());
    ECDSASigner verifier = new ECDSASigner();
    verifier.init(false, key);
    return verifier.verifySignature(hash, rs[0], rs[1]);
  }

  static Parsed parse(String csrPem) throws SignRefused {
    if (csrPem == null || csrPem.isBlank()) {
      throw SignRefused.invalid("bad_csr", "csr_pem: empty (expected: a PEM CERTIFICATE REQUEST)");
    }
    if (csrPem.length() > MAX_PEM) {
      throw SignRefused.invalid("bad_csr", "csr_pem: " + csrPem.length() + " characters (expected: at most " + MAX_PEM + ")");
    }
    int begin = -1;
    String label = null;
    for (String l : LABELS) {
      int at = csrPem.indexOf("-----BEGIN " + l + "-----");
      if (at >= 0 && (begin < 0 || at < begin)) {
        begin = at;
        label = l;
      }
    }
    if (begin < 0) {
      throw SignRefused.invalid("bad_csr", "csr_pem: no CERTIFICATE REQUEST block (expected: -----BEGIN CERTIFICATE REQUEST-----)");
    }
    int bodyStart = begin + ("-----BEGIN " + label + "-----").length();
    int end = csrPem.indexOf("-----END " + label + "-----", bodyStart);
    try {
      if (end < 0) {
        throw new IOException("no -----END " + label + "----- line");
      }
      byte[] der = Base64.getMimeDecoder().decode(csrPem.substring(bodyStart, end));
      PKCS10CertificationRequest csr = new PKCS10CertificationRequest(der);
      int info = Der.contentStart(der, 0);
      int infoEnd = Der.end(der, info);
      int p = Der.contentStart(der, info);
      p = Der.end(der, p); // version
      p = Der.end(der, p); // subject
      return new Parsed(csr, der, info, infoEnd, p, Der.end(der, p));
    } catch (IOException | RuntimeException e) {
      throw SignRefused.invalid("bad_csr", "csr_pem: not a valid PKCS#10 request (" + e.getMessage() + ")");
    }
  }

  static void checkKey(SubjectPublicKeyInfo spki) throws SignRefused {
    AlgorithmIdentifier alg = spki.getAlgorithm();
    ASN1ObjectIdentifier oid = alg.getAlgorithm();
    if (oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      ASN1Encodable params = alg.getParameters();
      if (SECObjectIdentifiers.secp256r1.equals(params) || SECObjectIdentifiers.secp384r1.equals(params)) {
        return;
      }
      throw SignRefused.invalid("weak_key", "csr_pem: EC curve " + params + " not accepted (expected: P-256 or P-384)");
    }
    if (oid.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      int bits;
      try {
        bits = RSAPublicKey.getInstance(spki.parsePublicKey()).getModulus().bitLength();
      } catch (IOException | IllegalArgumentException e) {
        throw SignRefused.invalid("bad_csr", "csr_pem: malformed RSA public key");
      }
      if (bits < 2048) {
        throw SignRefused.invalid("weak_key", "csr_pem: RSA key of " + bits + " bits (expected: at least 2048)");
      }
      return;
    }
    throw SignRefused.invalid("weak_key", "csr_pem: key algorithm " + oid + " not accepted (expected: EC P-256/P-384 or RSA >= 2048)");
  }

  static void checkExtensions(PKCS10CertificationRequest csr, Set<String> expectedUris) throws SignRefused {
    Extensions ext;
    try {
      ext = csr.getRequestedExtensions();
    } catch (RuntimeException e) {
      throw SignRefused.invalid("bad_csr", "csr_pem: malformed extension request");
    }
    if (ext == null) {
      return; // no SANs asked: the leaf gets exactly the identity's
    }
    try {
      BasicConstraints bc = BasicConstraints.fromExtensions(ext);
      if (bc != null && bc.isCA()) {
        throw SignRefused.invalid("ca_requested", "csr_pem: asks for a CA certificate (basicConstraints CA:TRUE)");
      }
      KeyUsage ku = KeyUsage.fromExtensions(ext);
      if (ku != null && (ku.hasUsages(KeyUsage.keyCertSign) || ku.hasUsages(KeyUsage.cRLSign))) {
        throw SignRefused.invalid("ca_requested", "csr_pem: asks for keyCertSign/cRLSign key usage");
      }
      GeneralNames sans = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
      if (sans != null) {
        Set<String> asked = new HashSet<>();
        for (GeneralName n : sans.getNames()) {
          if (n.getTagNo() != GeneralName.uniformResourceIdentifier) {
            throw SignRefused.invalid("san_mismatch", "csr_pem: SAN " + describe(n)
                + " not allowed (expected: only the URI SANs " + expectedUris + ")");
          }
          asked.add(n.getName().toString());
        }
        if (!asked.equals(expectedUris)) {
          Set<String> extra = new HashSet<>(asked);
          extra.removeAll(expectedUris);
          throw SignRefused.invalid("san_mismatch", "csr_pem: URI SANs " + (extra.isEmpty() ? asked : extra)
              + " differ from the identity asked for (expected: " + expectedUris + ")");
        }
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw SignRefused.invalid("bad_csr", "csr_pem: malformed extension (" + e.getMessage() + ")");
    }
  }

  private static String describe(GeneralName n) {
    String kind = switch (n.getTagNo()) {
      case GeneralName.dNSName -> "DNS";
      case GeneralName.iPAddress -> "IP";
      case GeneralName.rfc822Name -> "email";
      default -> "type " + n.getTagNo();
    };
    return kind + ":" + (n.getName() instanceof ASN1Sequence ? "…" : n.getName());
  }
}
