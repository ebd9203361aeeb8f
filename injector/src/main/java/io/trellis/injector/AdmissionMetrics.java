package io.trellis.injector;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/**
 * {@code trellis_injector_admissions_total{webhook,result}} and
 * {@code trellis_injector_admission_duration_seconds{webhook}}.
 */
@ApplicationScoped
public class AdmissionMetrics {
  private final MeterRegistry registry;

  AdmissionMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void record(String webhook, String result, long startNanos) {
    Counter.builder("trellis.injector.admissions")
        .description("Admission requests by webhook and result")
        .tag("webhook", webhook).tag("result", result)
        .register(registry).increment();
    Timer.builder("trellis.injector.admission.duration")
        .description("Time to answer an admission request")
        .tag("webhook", webhook)
        .publishPercentileHistogram()
        .register(registry).record(Duration.ofNanos(System.nanoTime() - startNanos));
  }
}
