package io.trellis.injector;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readiness is DOWN whenever the serving certificate is not usable. */
class CertificateReadinessTest {
  @TempDir Path dir;

  private HealthCheckResponse check(Path cert, Path key) {
    CertificateReadiness r = new CertificateReadiness(null);
    r.certFiles = Optional.of(List.of(cert));
    r.keyFiles = Optional.of(List.of(key));
    return r.call();
  }

  @Test
  void missingCertificateIsDown() {
    HealthCheckResponse r = check(dir.resolve("tls.crt"), dir.resolve("tls.key"));
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
    assertThat(r.getData().orElseThrow().get("error").toString()).contains("tls.crt");
  }

  @Test
  void garbageCertificateIsDown() throws Exception {
    Files.writeString(dir.resolve("tls.crt"), "not a certificate");
    Files.writeString(dir.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\n");
    assertThat(check(dir.resolve("tls.crt"), dir.resolve("tls.key")).getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
  }

  @Test
  void certificateWithoutKeyIsDown() throws Exception {
    Files.copy(Path.of("src/test/resources/test-tls/tls.crt"), dir.resolve("tls.crt"));
    Files.writeString(dir.resolve("tls.key"), "");
    HealthCheckResponse r = check(dir.resolve("tls.crt"), dir.resolve("tls.key"));
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
    assertThat(r.getData().orElseThrow().get("error").toString()).contains("no PEM private key");
  }
}
