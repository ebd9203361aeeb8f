package io.trellis.cli.generate;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl generate tls-certificate}, kumactl's command: a self-signed certificate and its
 * key, PEM, for a gateway listener ({@code --type=server}, EKU serverAuth, the hostnames as SANs)
 * or a client ({@code --type=client}, EKU clientAuth). Generated here, with the JDK's key and
 * signature providers; the key never leaves this machine.
 */
@Command(
    name = "tls-certificate",
    description = "Generate a self-signed TLS certificate and key (PEM).",
    mixinStandardHelpOptions = true)
public class TlsCertificateCommand implements Callable<Integer> {
  private static final Pattern DNS = Pattern.compile(
      "(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final Pattern IP = Pattern.compile("[0-9.]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");

  /** What the certificate is for. */
  public enum Type { server, client }

  /** Key algorithm: RSA 2048 or ECDSA P-256. */
  public enum KeyType { rsa, ecdsa }

  @Spec
  CommandSpec spec;

  @Option(names = "--type", required = true, description = "server or client")
  Type type;

  @Option(names = "--hostname", description = "DNS name, *.wildcard or IP address; repeatable (required for server)")
  List<String> hostnames = List.of();

  @Option(names = "--key-type", defaultValue = "rsa", description = "rsa (2048 bits) or ecdsa (P-256); default ${DEFAULT-VALUE}")
  KeyType keyType;

  @Option(names = "--cert-file", required = true, description = "where to write the certificate (PEM)")
  Path certFile;

  @Option(names = "--key-file", required = true, description = "where to write the private key (PKCS#8 PEM, mode 0600)")
  Path keyFile;

  @Option(names = "--valid-for", defaultValue = "3650d", description = "lifetime, e.g. 8760h or 365d; default ${DEFAULT-VALUE}")
  String validFor;

  @Override
  public Integer call() throws IOException {
    if (type == Type.server && hostnames.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--hostname: missing (expected: at least one for --type=server)");
    }
    GeneralName[] names = new GeneralName[hostnames.size()];
    for (int i = 0; i < names.length; i++) {
      names[i] = generalName(hostnames.get(i));
    }
    Duration lifetime = duration(validFor);
    KeyPair keys = keyPair(keyType);
    String cn = hostnames.isEmpty() ? "meshctl client" : hostnames.get(0);
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    Instant now = Instant.now();
    int usage = KeyUsage.digitalSignature | (keyType == KeyType.rsa ? KeyUsage.keyEncipherment : 0);
    byte[] der;
    try {
      var b = new JcaX509v3CertificateBuilder(subject, new BigInteger(127, new SecureRandom()).setBit(126),
              Date.from(now.minusSeconds(60)), Date.from(now.plus(lifetime)), subject, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(type == Type.server ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
      if (names.length > 0) {
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      String alg = keyType == KeyType.rsa ? "SHA256withRSA" : "SHA256withECDSA";
      der = b.build(new JcaContentSignerBuilder(alg).build(keys.getPrivate())).getEncoded();
    } catch (OperatorCreationException e) {
      throw new IOException("signing the certificate: " + e.getMessage(), e);
    }
    writePrivate(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    Files.writeString(certFile, pem("CERTIFICATE", der), StandardCharsets.US_ASCII);
    spec.commandLine().getOut().printf("Certificate written to %s, key to %s%n", certFile, keyFile);
    return 0;
  }

  private GeneralName generalName(String h) {
    if (IP.matcher(h).matches()) {
      try {
        return new GeneralName(GeneralName.iPAddress, InetAddress.getByName(h).getHostAddress());
      } catch (UnknownHostException | IllegalArgumentException e) {
        // not an address after all: checked as a DNS name below
      }
    }
    if (h.length() > 253 || !DNS.matcher(h).matches()) {
      throw new ParameterException(spec.commandLine(),
          "--hostname: \"" + h + "\" (expected: a DNS name, *.wildcard, or an IP address)");
    }
    return new GeneralName(GeneralName.dNSName, h);
  }

  private Duration duration(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    try {
      long n = Long.parseLong(v.substring(0, v.length() - 1));
      Duration d = switch (v.charAt(v.length() - 1)) {
        case 'd' -> Duration.ofDays(n);
        case 'h' -> Duration.ofHours(n);
        case 'm' -> Duration.ofMinutes(n);
        case 's' -> Duration.ofSeconds(n);
        default -> null;
      };
      if (d != null && !d.isNegative() && !d.isZero()) {
        return d;
      }
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      // reported below
    }
    throw new ParameterException(spec.commandLine(), "--valid-for: \"" + s + "\" (expected: a positive number followed by d, h, m or s)");
  }

  private static KeyPair keyPair(KeyType type) {
    try {
      if (type == KeyType.rsa) {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
      }
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("key generation (" + type + ")", e);
    }
  }

  private static void writePrivate(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    try {
      // created 0600 from the start: the key is never readable by others, not even briefly
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }
}
