package io.trellis.ca.pki;

import java.net.InetAddress;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
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

/**
 * Self-signed TLS certificates, what {@code kumactl generate tls-certificate} produces: for
 * gateway listeners ({@code server}: the hostnames, DNS names or IP addresses, as SANs, EKU
 * serverAuth) or clients ({@code client}: EKU clientAuth, hostnames optional); RSA 2048 or ECDSA P-256.
 */
public final class ServerCertificates {
  private static final Pattern DNS = Pattern.compile(
      "(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final Pattern IP = Pattern.compile("[0-9.]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");

  private ServerCertificates() {}

  public record Generated(String certificatePem, String keyPem) {}

  public static Generated generate(String keyType, List<String> hostnames, Duration validity) {
    return generate("server", keyType, hostnames, validity);
  }

  public static Generated generate(String certType, String keyType, List<String> hostnames, Duration validity) {
    String kind = certType == null || certType.isEmpty() ? "server" : certType;
    if (!kind.equals("server") && !kind.equals("client")) {
      throw new IllegalArgumentException("type: \"" + certType + "\" (expected: server or client)");
    }
    if (hostnames == null) {
      hostnames = List.of();
    }
    if (kind.equals("server") && hostnames.isEmpty()) {
      throw new IllegalArgumentException("hostnames: empty (expected: at least one DNS name or IP address)");
    }
    if (validity == null || validity.isNegative() || validity.isZero() || validity.compareTo(Duration.ofDays(3650)) > 0) {
      throw new IllegalArgumentException("validFor: " + validity + " (expected: between 1s and 3650d)");
    }
    GeneralName[] names = new GeneralName[hostnames.size()];
    for (int i = 0; i < hostnames.size(); i++) {
      String h = hostnames.get(i);
      if (h != null && IP.matcher(h).matches()) {
        try {
          names[i] = new GeneralName(GeneralName.iPAddress, InetAddress.getByName(h).getHostAddress());
          continue;
        } catch (java.net.UnknownHostException | IllegalArgumentException e) {
          // falls through to the error below
        }
      }
      if (h == null || h.length() > 253 || !DNS.matcher(h).matches()) {
        throw new IllegalArgumentException("hostnames[" + i + "]: " + (h == null ? "null" : "\"" + h + "\"")
            + " (expected: a DNS name, *.wildcard, or an IP address)");
      }
      names[i] = new GeneralName(GeneralName.dNSName, h);
    }
    String type = keyType == null ? "rsa" : keyType.toLowerCase(java.util.Locale.ROOT);
    KeyPair keys = switch (type) {
      case "rsa" -> Crypto.rsaKeyPair(2048);
      case "ecdsa" -> Crypto.ecKeyPair("secp256r1");
      default -> throw new IllegalArgumentException("keyType: \"" + keyType + "\" (expected: rsa or ecdsa)");
    };
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.CN, hostnames.isEmpty() ? "Trellis client" : hostnames.get(0)).build();
    Instant now = Instant.now();
    int usage = KeyUsage.digitalSignature | (type.equals("rsa") ? KeyUsage.keyEncipherment : 0);
    try {
      var b = new JcaX509v3CertificateBuilder(subject, Crypto.serial(), Date.from(now.minusSeconds(60)),
              Date.from(now.plus(validity)), subject, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(kind.equals("server") ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
      if (names.length > 0) {
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      return new Generated(Pem.encode("CERTIFICATE", b.build(Crypto.signer(keys.getPrivate())).getEncoded()),
          Pem.privateKey(keys.getPrivate()));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("building the server certificate", e);
    }
  }
}
