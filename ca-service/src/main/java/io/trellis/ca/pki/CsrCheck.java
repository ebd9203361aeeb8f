package io.trellis.ca.pki;

import io.trellis.ca.SignRefused;
import java.io.IOException;
import java.io.StringReader;
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
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.bc.BcECContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.openssl.PEMParser;

/**
 * Checks a workload's PKCS#10 CSR before anything is signed. Fails closed: whatever cannot be
 * parsed or proven acceptable is refused with INVALID_ARGUMENT and the reason.
 */
public final class CsrCheck {
  private static final int MAX_PEM = 64 * 1024;

  private CsrCheck() {}

  /** The checked CSR: its public key is what the leaf certifies. */
  public record CheckedCsr(SubjectPublicKeyInfo publicKey, String csrPem) {}

  public static CheckedCsr check(String csrPem, Set<String> expectedUris) throws SignRefused {
    PKCS10CertificationRequest csr = parse(csrPem);
    SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
    checkKey(spki);
    try {
      // EC goes through BouncyCastle's lightweight API: no JCA key conversion per request (hot path)
      ContentVerifierProvider verifier = spki.getAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
          ? new BcECContentVerifierProviderBuilder(new DefaultDigestAlgorithmIdentifierFinder())
              .build(PublicKeyFactory.createKey(spki))
          : new JcaContentVerifierProviderBuilder().setProvider(Crypto.BC).build(spki);
      if (!csr.isSignatureValid(verifier)) {
        throw SignRefused.invalid("bad_signature", "csr_pem: signature does not verify with the CSR's public key");
      }
    } catch (PKCSException | org.bouncycastle.operator.OperatorCreationException | IOException | RuntimeException e) {
      throw SignRefused.invalid("bad_signature", "csr_pem: signature cannot be verified (" + e.getMessage() + ")");
    }
    checkExtensions(csr, expectedUris);
    return new CheckedCsr(spki, csrPem);
  }

  static PKCS10CertificationRequest parse(String csrPem) throws SignRefused {
    if (csrPem == null || csrPem.isBlank()) {
      throw SignRefused.invalid("bad_csr", "csr_pem: empty (expected: a PEM CERTIFICATE REQUEST)");
    }
    if (csrPem.length() > MAX_PEM) {
      throw SignRefused.invalid("bad_csr", "csr_pem: " + csrPem.length() + " characters (expected: at most " + MAX_PEM + ")");
    }
    try (PEMParser parser = new PEMParser(new StringReader(csrPem))) {
      Object o = parser.readObject();
      if (o instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
    } catch (IOException | RuntimeException e) {
      throw SignRefused.invalid("bad_csr", "csr_pem: not a valid PKCS#10 request (" + e.getMessage() + ")");
    }
    throw SignRefused.invalid("bad_csr", "csr_pem: no CERTIFICATE REQUEST block (expected: -----BEGIN CERTIFICATE REQUEST-----)");
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
