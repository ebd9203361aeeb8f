package io.trellis.ca.pki;

import io.trellis.api.model.MeshSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * The builtin backend's root: self-signed, one per mesh and backend, created on first use and kept
 * in {@code <dir>/ca.pem} (certificate and key in one 0600 file). The file is created atomically (a
 * fully written temp file hard-linked into place), so two replicas or a restart racing on first use
 * agree on one root, and an existing root is never replaced.
 */
public final class BuiltinCa {
  public static final String FILE_NAME = "ca.pem";
  public static final Duration DEFAULT_EXPIRATION = Duration.ofDays(3650);

  private BuiltinCa() {}

  /** Loads the root from {@code dir}, creating it from {@code caCert} settings when absent. */
  public static CaMaterial loadOrCreate(Path dir, String mesh, MeshSpec.CaCert caCert) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      return load(file);
    }
    CaMaterial fresh = create(mesh, caCert);
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, FILE_NAME, ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // not POSIX: the data directory's permissions protect the key
      }
      String content = Pem.certificate(fresh.cert()) + Pem.privateKey(fresh.key());
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
          OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
        out.write(content.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        ch.force(true);
      }
      try {
        Files.createLink(file, tmp);
        return fresh;
      } catch (FileAlreadyExistsException raced) {
        return load(file);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  static CaMaterial load(Path file) throws IOException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    X509Certificate cert = Pem.readCertificates(pem).get(0);
    PrivateKey key = Pem.readPrivateKey(pem);
    if (!Crypto.keysMatch(cert.getPublicKey(), key)) {
      // fail closed: never sign with a key that is not the root's
      throw new IOException(file + ": private key does not match the certificate");
    }
    return new CaMaterial(cert, key, List.of());
  }

  /** A new self-signed root (not persisted). */
  public static CaMaterial create(String mesh, MeshSpec.CaCert caCert) {
    Integer rsaBits = caCert == null ? null : caCert.rsaBits();
    Duration lifetime = caCert == null || caCert.expiration() == null
        ? DEFAULT_EXPIRATION
        : CaDurations.parse("caCert.expiration", caCert.expiration());
    KeyPair keys;
    if (rsaBits == null || rsaBits == 0) {
      keys = Crypto.ecKeyPair("secp256r1");
    } else if (rsaBits == 2048 || rsaBits == 4096) {
      keys = Crypto.rsaKeyPair(rsaBits);
    } else {
      throw new IllegalArgumentException("caCert.RSAbits: " + rsaBits + " (expected: 2048 or 4096, or absent for EC P-256)");
    }
    Instant now = Instant.now();
    X500Name name = new X500Name("O=Trellis,OU=" + mesh + ",CN=Trellis builtin CA " + mesh);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
              name, Crypto.serial(), Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(lifetime)),
              name, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
          .addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + mesh)));
      X509Certificate cert = new JcaX509CertificateConverter().setProvider(Crypto.BC)
          .getCertificate(b.build(Crypto.signer(keys.getPrivate())));
      return new CaMaterial(cert, keys.getPrivate(), List.of());
    } catch (CertIOException | CertificateException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("building the root certificate", e);
    }
  }
}
