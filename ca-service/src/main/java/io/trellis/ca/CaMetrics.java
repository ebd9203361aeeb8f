package io.trellis.ca;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.trellis.ca.backend.CaBackend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** ca-service's {@code trellis_ca_*} metrics. */
@ApplicationScoped
public class CaMetrics implements MeshCaRegistry.Events {
  private final MeterRegistry registry;
  // Gauges read the live backend; a replaced backend's gauge follows the replacement.
  private final Map<String, CaBackend> expiring = new ConcurrentHashMap<>();

  @Inject
  public CaMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void issued(String mesh, String backend, Duration latency) {
    Counter.builder("trellis.ca.certificates.issued").description("Workload certificates issued")
        .tags("mesh", mesh, "backend", backend).register(registry).increment();
    Timer.builder("trellis.ca.issuance.latency").description("Time to check a CSR and issue its certificate")
        .tags("mesh", mesh, "backend", backend).publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry).record(latency);
  }

  public void refused(String mesh, String reason) {
    Counter.builder("trellis.ca.refusals").description("Signing requests refused, by reason")
        .tags("mesh", mesh == null ? "" : mesh, "reason", reason).register(registry).increment();
  }

  @Override
  public void backendError(String mesh, String backend, String type, String error) {
    Counter.builder("trellis.ca.backend.errors").description("CA backend failures (load or issuance)")
        .tags("mesh", mesh, "backend", backend, "type", type).register(registry).increment();
  }

  @Override
  public void backendLoaded(String mesh, CaBackend backend) {
    String key = mesh + "/" + backend.name();
    boolean fresh = expiring.put(key, backend) == null;
    if (fresh) {
      Gauge.builder("trellis.ca.root.expiry.seconds", expiring,
              m -> m.containsKey(key) ? MeshCaRegistry.secondsUntilExpiry(m.get(key)) : Double.NaN)
          .description("Seconds until the backend's root (trust anchor) expires")
          .tags(Tags.of("mesh", mesh, "backend", backend.name())).register(registry);
    }
  }
}
