package io.trellis.ca.testing;

import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import java.security.KeyPair;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Builds CSRs for tests, including malformed and abusive ones. */
public final class Csrs {
  private Csrs() {}

  public static KeyPair p256() {
    return Crypto.ecKeyPair("secp256r1");
  }

  public static String csr(KeyPair keys) {
    return csr(keys, List.of(), false);
  }

  public static String csr(KeyPair keys, List<GeneralName> sans, boolean askCa) {
    try {
      PKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name(""), keys.getPublic());
      if (!sans.isEmpty() || askCa) {
        ExtensionsGenerator ext = new ExtensionsGenerator();
        if (!sans.isEmpty()) {
          ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
        if (askCa) {
          ext.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        }
        b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
      }
      String alg = keys.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      return Pem.encode("CERTIFICATE REQUEST",
          b.build(new JcaContentSignerBuilder(alg).setProvider(Crypto.BC).build(keys.getPrivate())).getEncoded());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static GeneralName uri(String u) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, u);
  }

  public static GeneralName dns(String d) {
    return new GeneralName(GeneralName.dNSName, d);
  }
}
