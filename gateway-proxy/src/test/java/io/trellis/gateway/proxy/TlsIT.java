package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Pki;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One TLS listener with an SNI-routed termination chain (RSA + ECDSA certificates side by side, ALPN h2 and
 * http/1.1) and a passthrough chain to a backend that terminates TLS itself; checked with curl and
 * openssl s_client.
 */
class TlsIT {
  @TempDir
  static Path dir;
  static EchoServer echo;
  static HttpsServer backend;
  static DataPlane dp;
  static int port;
  static Path gwCa;
  static Path backendCa;

  @BeforeAll
  static void start() throws Exception {
    // Each leaf is signed with its own algorithm, so a client limited to one family can verify its chain.
    Pki gwEc = new Pki("gateway-ca", Pki.Alg.EC);
    Pki gwRsa = new Pki("gateway-rsa-ca", Pki.Alg.RSA);
    Pki.Issued rsa = gwRsa.issue(Pki.Alg.RSA, List.of("secure.example.com", "*.apps.example.com"), List.of());
    Pki.Issued ec = gwEc.issue(Pki.Alg.EC, List.of("secure.example.com", "*.apps.example.com"), List.of());
    gwCa = dir.resolve("gw-ca.pem");
    Files.writeString(gwCa, gwEc.caPem() + gwRsa.caPem());
    Pki be = new Pki("backend-ca", Pki.Alg.RSA);
    Pki.Issued beCert = be.issue(Pki.Alg.RSA, List.of("db.example.com"), List.of());
    backendCa = beCert.writeCa(dir, "backend-ca.pem");

    echo = new EchoServer("echo");
    backend = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    backend.setHttpsConfigurator(new HttpsConfigurator(sslContext(beCert)));
    backend.createContext("/", ex -> {
      byte[] b = "hello from the backend itself\n".getBytes();
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    backend.start();

    port = freePort();
    Listener l = Listener.newBuilder().setName("tls").setAddress(address("127.0.0.1", port))
        .addFilterChains(tlsHttpChain(List.of("secure.example.com", "*.apps.example.com"), "routes", "cert-rsa", "cert-ec"))
        .addFilterChains(passthroughChain(List.of("db.example.com"), "backend"))
        .build();
    Xds.Set set = new Xds.Set().add(l,
        routes("routes", vhost("all", List.of("*"), prefix("/", "echo").build())),
        staticCluster("echo", echo.address()),
        staticCluster("backend", backend.getAddress()),
        tlsSecret("cert-rsa", rsa), tlsSecret("cert-ec", ec));
    dp = new DataPlane(new DataPlane.Options(2, 0, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(set.resources()));
  }

  static SSLContext sslContext(Pki.Issued cert) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("k", cert.key(), "x".toCharArray(), new X509Certificate[] {cert.cert()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
    kmf.init(ks, "x".toCharArray());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  @AfterAll
  static void stop() {
    dp.close();
    echo.close();
    backend.stop(0);
  }

  static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }

  static String curl(String host, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "--max-time", "10",
        "--resolve", host + ":" + port + ":127.0.0.1"));
    cmd.addAll(List.of(extra));
    cmd.add("https://" + host + ":" + port + "/hello");
    return run(cmd.toArray(new String[0]));
  }

  static String sClient(String sni, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", sni));
    cmd.addAll(List.of(extra));
    return run(cmd.toArray(new String[0]));
  }

  @Test
  void terminatesTlsForHttp11AndH2WithTheGatewayCertificate() throws Exception {
    String h1 = curl("secure.example.com", "--cacert", gwCa.toString(), "--http1.1");
    assertThat(h1).startsWith("HTTP/1.1 200").contains("server=echo", "h:x-forwarded-proto=https", "via: 1.1 trellis");
    String h2 = curl("secure.example.com", "--cacert", gwCa.toString(), "--http2");
    assertThat(h2).startsWith("HTTP/2 200").contains("server=echo", "x-trellis-request-id:", "request=GET /hello");
    String wildcard = curl("x.apps.example.com", "--cacert", gwCa.toString());
    assertThat(wildcard).startsWith("HTTP/2 200");
    assertThat(sClient("secure.example.com")).contains("i:CN = gateway-ca");
  }

  @Test
  void terminationRunsOnBoringSsl() {
    // netty-tcnative-boringssl-static is on the classpath for linux-x86_64: the JDK provider is only a fallback.
    assertThat(io.trellis.gateway.config.TlsContexts.provider()).isEqualTo(io.netty.handler.ssl.SslProvider.OPENSSL);
    assertThat(io.netty.handler.ssl.OpenSsl.versionString()).contains("BoringSSL");
  }

  @Test
  void servesRsaOrEcdsaByTheClientsSignatureAlgorithms() throws Exception {
    StringBuilder seen = new StringBuilder();
    for (String v : List.of("-tls1_2", "-tls1_3")) {
      String ecdsa = sClient("secure.example.com", v, "-sigalgs", "ECDSA+SHA256");
      String rsa = sClient("secure.example.com", v, "-sigalgs", "rsa_pss_rsae_sha256:RSA+SHA256");
      seen.append(v).append(" ecdsa:").append(ecdsa.contains("Server public key is 256 bit"))
          .append(" rsa:").append(rsa.contains("Server public key is 2048 bit")).append('\n');
      if (!ecdsa.contains("256 bit")) {
        seen.append(ecdsa);
      }
    }
    assertThat(seen.toString()).isEqualTo("-tls1_2 ecdsa:true rsa:true\n-tls1_3 ecdsa:true rsa:true\n");
    assertThat(sClient("secure.example.com", "-tls1_2")).contains("Protocol  : TLSv1.2");
    assertThat(sClient("secure.example.com", "-tls1_3")).contains("TLSv1.3");
  }

  @Test
  void passesTlsThroughBySniSoTheClientSeesTheBackendsCertificate() throws Exception {
    String out = curl("db.example.com", "--cacert", backendCa.toString());
    assertThat(out).startsWith("HTTP/1.1 200").contains("hello from the backend itself").doesNotContain("trellis");
    assertThat(sClient("db.example.com")).contains("0 s:CN = db.example.com", "i:CN = backend-ca");
  }

  @Test
  void unknownServerNameIsRefused() throws Exception {
    String out = curl("nobody.example.org", "--cacert", gwCa.toString());
    assertThat(out).doesNotContain("HTTP/");
  }
}
