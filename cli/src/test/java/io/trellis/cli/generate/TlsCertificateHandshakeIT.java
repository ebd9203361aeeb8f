package io.trellis.cli.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.cli.Meshctl;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real TLS handshake with a certificate from {@code meshctl generate tls-certificate}: a server
 * presents it, a client that trusts it connects by one of its hostnames with HTTPS hostname
 * verification; a name the certificate does not carry fails.
 */
class TlsCertificateHandshakeIT {
  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"rsa", "ecdsa"})
  void handshakeByHostnameSucceedsAndOtherNamesFail(String keyType) throws Exception {
    Path certFile = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    assertThat(Meshctl.commandLine().execute("generate", "tls-certificate", "--type=server", "--key-type=" + keyType,
        "--hostname=gateway.example", "--hostname=127.0.0.1", "--cert-file=" + certFile, "--key-file=" + keyFile)).isZero();
    Certificate cert = CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certFile)));
    String keyB64 = Files.readString(keyFile).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PrivateKey key = KeyFactory.getInstance(keyType.equals("rsa") ? "RSA" : "EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(keyB64)));

    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", key, new char[0], new Certificate[] {cert});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    SSLContext serverCtx = SSLContext.getInstance("TLSv1.3");
    serverCtx.init(kmf.getKeyManagers(), null, null);

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("gateway", cert);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext clientCtx = SSLContext.getInstance("TLSv1.3");
    clientCtx.init(null, tmf.getTrustManagers(), null);

    try (SSLServerSocket server = (SSLServerSocket) serverCtx.getServerSocketFactory()
        .createServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 2; i++) {
          try (SSLSocket s = (SSLSocket) server.accept()) {
            InputStream in = s.getInputStream();
            int b = in.read();
            if (b >= 0) {
              s.getOutputStream().write(b + 1);
              s.getOutputStream().flush();
            }
          } catch (Exception e) {
            // the failing handshake of the second client ends here
          }
        }
      });

      assertThat(roundTrip(clientCtx, server.getLocalPort(), "gateway.example")).isEqualTo(42);
      assertThatThrownBy(() -> roundTrip(clientCtx, server.getLocalPort(), "other.example"))
          .isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("other.example");
      serving.get(10, TimeUnit.SECONDS);
    }
  }

  static int roundTrip(SSLContext ctx, int port, String hostname) throws Exception {
    Socket plain = new Socket(InetAddress.getLoopbackAddress(), port);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, hostname, port, true)) {
      s.setSoTimeout(10_000);
      SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      s.startHandshake();
      OutputStream out = s.getOutputStream();
      out.write(41);
      out.flush();
      return s.getInputStream().read();
    }
  }
}
