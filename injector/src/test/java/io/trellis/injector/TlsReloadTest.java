package io.trellis.injector;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;

/**
 * The webhook's certificate is reloaded from its files (a mounted Secret) without a restart: a
 * real TLS handshake sees certificate A, the files are replaced by B, and handshakes then see B.
 */
@QuarkusTest
@TestProfile(TlsReloadTest.Profile.class)
class TlsReloadTest {
  static final Path DIR = Path.of("target", "tls-reload");

  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "quarkus.http.ssl.certificate.files", DIR.resolve("tls.crt").toAbsolutePath().toString(),
          "quarkus.http.ssl.certificate.key-files", DIR.resolve("tls.key").toAbsolutePath().toString(),
          "quarkus.http.ssl.certificate.reload-period", "30s",
          "quarkus.kubernetes-client.devservices.enabled", "false");
    }

    @Override
    public java.util.List<TestResourceEntry> testResources() {
      return java.util.List.of(new TestResourceEntry(CertFiles.class));
    }
  }

  /** Puts certificate A in place before the application starts. */
  public static class CertFiles implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
      try {
        Files.createDirectories(DIR);
        install("reload-a");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return Map.of();
    }

    @Override
    public void stop() {}
  }

  static void install(String name) throws Exception {
    for (String ext : new String[] {"crt", "key"}) {
      try (InputStream in = TlsReloadTest.class.getResourceAsStream("/test-tls/" + name + "." + ext)) {
        Path tmp = DIR.resolve("tls." + ext + ".tmp");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, DIR.resolve("tls." + ext), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    }
  }

  @TestHTTPResource(value = "/", tls = true)
  URL https;

  @Test
  void newCertificateIsServedWithoutRestart() throws Exception {
    assertThat(servedSubject()).contains("reload-a.trellis-injector.test");
    install("reload-b");
    long deadline = System.currentTimeMillis() + 75_000; // Quarkus polls the files at most every 30s
    String subject = servedSubject();
    while (!subject.contains("reload-b") && System.currentTimeMillis() < deadline) {
      Thread.sleep(1000);
      subject = servedSubject();
    }
    assertThat(subject).contains("reload-b.trellis-injector.test");
  }

  private String servedSubject() throws Exception {
    // Trust-all is fine here: the test inspects which certificate is presented, not whether to trust it.
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String a) {}
      public void checkServerTrusted(X509Certificate[] c, String a) {}
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, new SecureRandom());
    try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", https.getPort())) {
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }
  }
}
