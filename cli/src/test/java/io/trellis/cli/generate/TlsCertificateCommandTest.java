package io.trellis.cli.generate;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.cli.Meshctl;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code meshctl generate tls-certificate}: what openssl reads in the files, and the refusals. */
class TlsCertificateCommandTest {
  @TempDir
  Path dir;

  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  int run(String... args) {
    var cmd = Meshctl.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  static String openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(text).isZero();
    return text;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"rsa, RSA Public-Key: (2048 bit)|Public-Key: (2048 bit), sha256WithRSAEncryption",
      "ecdsa, NIST CURVE: P-256, ecdsa-with-SHA256"})
  void serverCertificateHasTheHostnamesAsSans(String keyType, String keyText, String sigAlg) throws Exception {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    assertThat(run("generate", "tls-certificate", "--type=server", "--hostname=gateway.example",
        "--hostname=*.apps.example", "--hostname=10.0.0.1", "--key-type=" + keyType,
        "--cert-file=" + cert, "--key-file=" + key)).as(err.toString()).isZero();

    String text = openssl("x509", "-noout", "-text", "-in", cert.toString());
    assertThat(text).contains("DNS:gateway.example, DNS:*.apps.example, IP Address:10.0.0.1")
        .contains("TLS Web Server Authentication")
        .contains("CA:FALSE")
        .contains("Subject: CN = gateway.example")
        .contains(sigAlg);
    assertThat(List.of(keyText.split("\\|"))).anyMatch(text::contains);
    // the key belongs to the certificate: same public key from both files
    assertThat(openssl("pkey", "-in", key.toString(), "-pubout"))
        .isEqualTo(openssl("x509", "-in", cert.toString(), "-noout", "-pubkey"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    // self-signed: it verifies against itself
    assertThat(openssl("verify", "-CAfile", cert.toString(), "-purpose", "sslserver", cert.toString())).contains("OK");
  }

  @Test
  void clientCertificateNeedsNoHostname() throws Exception {
    Path cert = dir.resolve("c.pem");
    assertThat(run("generate", "tls-certificate", "--type=client", "--key-type=ecdsa",
        "--cert-file=" + cert, "--key-file=" + dir.resolve("k.pem"))).as(err.toString()).isZero();
    assertThat(openssl("x509", "-noout", "-text", "-in", cert.toString())).contains("TLS Web Client Authentication");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "server without hostname|--type=server|--hostname: missing (expected: at least one for --type=server)",
    "bad hostname|--type=server --hostname=bad_host!|--hostname: \"bad_host!\" (expected: a DNS name, *.wildcard, or an IP address)",
    "bad key type|--type=server --hostname=a --key-type=dsa|Invalid value for option '--key-type'",
    "bad type|--type=peer --hostname=a|Invalid value for option '--type'",
    "bad validity|--type=server --hostname=a --valid-for=ten|--valid-for: \"ten\" (expected: a positive number followed by d, h, m or s)",
  })
  void badFlagsAreUsageErrorsNamingTheFlag(String name, String flags, String message) {
    List<String> args = new ArrayList<>(List.of("generate", "tls-certificate"));
    args.addAll(List.of(flags.split(" ")));
    args.add("--cert-file=" + dir.resolve("c.pem"));
    args.add("--key-file=" + dir.resolve("k.pem"));
    assertThat(run(args.toArray(String[]::new))).isEqualTo(2);
    assertThat(err.toString()).contains(message).doesNotContain("Exception");
    assertThat(dir.resolve("k.pem")).doesNotExist();
  }
}
