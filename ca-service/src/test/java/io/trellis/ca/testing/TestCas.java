package io.trellis.ca.testing;

import io.trellis.ca.pki.Crypto;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/** CA certificates as a user would provide them: roots, intermediates, and broken ones. */
public final class TestCas {
  private TestCas() {}

  public record Ca(X509Certificate cert, KeyPair keys) {}

  public static Ca root(String cn) {
    KeyPair k = Crypto.ecKeyPair("secp256r1");
    return new Ca(cert(cn, cn, k, k.getPrivate(), true, KeyUsage.keyCertSign | KeyUsage.cRLSign, Duration.ofDays(365)), k);
  }

  public static Ca intermediate(String cn, Ca issuer) {
    KeyPair k = Crypto.ecKeyPair("secp256r1");
    return new Ca(cert(cn, issuer.cert().getSubjectX500Principal().getName(), k, issuer.keys().getPrivate(), true,
        KeyUsage.keyCertSign | KeyUsage.cRLSign, Duration.ofDays(180)), k);
  }

  public static Ca custom(String cn, boolean ca, int keyUsage, Duration lifetime) {
    KeyPair k = Crypto.ecKeyPair("secp256r1");
    return new Ca(cert(cn, cn, k, k.getPrivate(), ca, keyUsage, lifetime), k);
  }

  public static X509Certificate cert(String cn, String issuerDn, KeyPair subject, PrivateKey signer, boolean ca,
      int keyUsage, Duration lifetime) {
    try {
      Instant now = Instant.now();
      Instant start = lifetime.isNegative() ? now.plus(lifetime).minus(Duration.ofDays(1)) : now.minusSeconds(60);
      Instant end = lifetime.isNegative() ? now.plus(lifetime) : now.plus(lifetime);
      X500Name issuer = issuerDn.startsWith("CN=") ? new X500Name(issuerDn) : new X500Name("CN=" + issuerDn);
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now.toEpochMilli()),
          Date.from(start), Date.from(end), new X500Name("CN=" + cn), subject.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      if (keyUsage != 0) {
        b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
      }
      return new JcaX509CertificateConverter().setProvider(Crypto.BC).getCertificate(b.build(Crypto.signer(signer)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
