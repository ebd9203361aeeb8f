package io.trellis.gateway.config;

import java.io.IOException;
import java.io.StringReader;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** PEM certificates and private keys (PKCS#8, PKCS#1 RSA and SEC1 EC) as delivered in SDS secrets. */
public final class Pem {
  private Pem() {}

  public static List<X509Certificate> certificates(String pem, String field) {
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (var c : cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException(field + ": no certificate (expected: PEM X.509 certificates)");
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage() + " (expected: PEM X.509 certificates)");
    }
  }

  public static PrivateKey privateKey(String pem, String field) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof PEMKeyPair kp) {
          return conv.getKeyPair(kp).getPrivate();
        }
        if (o instanceof PrivateKeyInfo info) {
          return conv.getPrivateKey(info);
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(field + ": unreadable key (expected: unencrypted PEM private key)");
    }
    throw new IllegalArgumentException(field + ": no private key (expected: unencrypted PEM private key)");
  }
}
