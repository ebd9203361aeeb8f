package io.trellis.gateway.testing;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throw-away CA for tests: RSA or ECDSA leaves with DNS and/or URI (SPIFFE) SANs. */
public final class Pki {
  public enum Alg { RSA, EC }

  /** An issued certificate with its key, as PEM. */
  public record Issued(PrivateKey key, X509Certificate cert, X509Certificate ca) {
    public String certPem() {
      return pem(cert);
    }

    public String chainPem() {
      return pem(cert);
    }

    public String keyPem() {
      return pem(key);
    }

    public String caPem() {
      return pem(ca);
    }

    public Path writeCa(Path dir, String name) throws Exception {
      Path p = dir.resolve(name);
      Files.writeString(p, caPem());
      return p;
    }
  }

  private final KeyPair caKeys;
  private final X509Certificate caCert;
  private final Alg alg;

  public Pki(String cn, Alg alg) throws Exception {
    this.alg = alg;
    this.caKeys = keys(alg);
    X500Name name = new X500Name("CN=" + cn);
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), new Date(System.currentTimeMillis() - 60_000),
        new Date(System.currentTimeMillis() + 86_400_000L), name, caKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    this.caCert = sign(b, caKeys.getPrivate(), alg);
  }

  public X509Certificate ca() {
    return caCert;
  }

  public String caPem() {
    return pem(caCert);
  }

  public Issued issue(Alg leafAlg, List<String> dnsNames, List<String> uris) throws Exception {
    KeyPair kp = keys(leafAlg);
    boolean emptySubject = dnsNames.isEmpty();
    X500Name subject = emptySubject ? new X500Name(new org.bouncycastle.asn1.x500.RDN[0]) : new X500Name("CN=" + dnsNames.get(0));
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(), new Date(System.currentTimeMillis() - 60_000),
        new Date(System.currentTimeMillis() + 86_400_000L), subject, kp.getPublic());
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
    uris.forEach(u -> names.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
    b.addExtension(Extension.subjectAlternativeName, emptySubject, new GeneralNames(names.toArray(new GeneralName[0])));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    return new Issued(kp.getPrivate(), sign(b, caKeys.getPrivate(), alg), caCert);
  }

  private static KeyPair keys(Alg alg) throws Exception {
    if (alg == Alg.RSA) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key, Alg alg) throws Exception {
    String sigAlg = alg == Alg.RSA ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(sigAlg).build(key)));
  }

  private static BigInteger serial() {
    return new BigInteger(64, new SecureRandom());
  }

  static String pem(Object o) {
    try {
      StringWriter w = new StringWriter();
      try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
        pw.writeObject(o instanceof PrivateKey k
            ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : o);
      }
      return w.toString();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
