package io.trellis.injector;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only when the webhook's serving certificate (the mounted secret the server reloads) is
 * present, parses, has its key, and is within its validity, and the injection settings (xDS CA)
 * can be built: the API server cannot call a webhook without them, and {@code failurePolicy: Fail}
 * would block every pod creation.
 */
@Readiness
@ApplicationScoped
public class CertificateReadiness implements HealthCheck {
  @ConfigProperty(name = "quarkus.http.ssl.certificate.files")
  Optional<List<Path>> certFiles;

  @ConfigProperty(name = "quarkus.http.ssl.certificate.key-files")
  Optional<List<Path>> keyFiles;

  private final InjectionSettingsProducer settings;

  CertificateReadiness(InjectionSettingsProducer settings) {
    this.settings = settings;
  }

  @Override
  public HealthCheckResponse call() {
    HealthCheckResponseBuilder r = HealthCheckResponse.named("webhook-certificate");
    try {
      Path cert = certFiles.orElse(List.of()).stream().findFirst()
          .orElseThrow(() -> new IllegalStateException("quarkus.http.ssl.certificate.files: not set"));
      Path key = keyFiles.orElse(List.of()).stream().findFirst()
          .orElseThrow(() -> new IllegalStateException("quarkus.http.ssl.certificate.key-files: not set"));
      X509Certificate x509;
      try (InputStream in = open(cert)) {
        x509 = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      try (InputStream in = open(key)) {
        if (!new String(in.readAllBytes()).contains("PRIVATE KEY-----")) {
          throw new IllegalStateException(key + ": no PEM private key");
        }
      }
      Instant now = Instant.now();
      boolean valid = !now.isBefore(x509.getNotBefore().toInstant()) && now.isBefore(x509.getNotAfter().toInstant());
      r.withData("subject", x509.getSubjectX500Principal().getName())
          .withData("notAfter", x509.getNotAfter().toInstant().toString());
      settings.settings();
      return r.status(valid).build();
    } catch (Exception e) {
      return r.down().withData("error", String.valueOf(e.getMessage())).build();
    }
  }

  /** A file path, or (in tests) a class-path resource as Quarkus itself resolves them. */
  private static InputStream open(Path p) throws java.io.IOException {
    if (Files.exists(p)) {
      return Files.newInputStream(p);
    }
    InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(p.toString());
    if (in == null) {
      throw new java.nio.file.NoSuchFileException(p.toString());
    }
    return in;
  }
}
