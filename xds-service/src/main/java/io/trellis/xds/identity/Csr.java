package io.trellis.xds.identity;

import java.io.IOException;
import java.io.StringWriter;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Workload key pairs and PKCS#10 requests: the key stays here, only the CSR goes to ca-service. */
public final class Csr {
  private Csr() {}

  public static KeyPair generateKey() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 key generation unavailable", e);
    }
  }

  /** A CSR with an empty subject and the identity's URI SANs (DESIGN.md section 5). */
  public static String csrPem(KeyPair key, List<String> uriSans) {
    try {
      ExtensionsGenerator ext = new ExtensionsGenerator();
      GeneralName[] names = uriSans.stream()
          .map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u)).toArray(GeneralName[]::new);
      ext.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), key.getPublic())
          .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
      return pem(csr);
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("CSR creation failed", e);
    }
  }

  /** PKCS#8 ("PRIVATE KEY"): read by Envoy, Netty and grpc-java alike (SEC1 "EC PRIVATE KEY" is not). */
  public static String privateKeyPem(java.security.PrivateKey key) {
    return "-----BEGIN PRIVATE KEY-----\n"
        + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  public static String pem(Object o) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }
}
