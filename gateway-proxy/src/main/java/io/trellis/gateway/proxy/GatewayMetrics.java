package io.trellis.gateway.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Prometheus metrics per listener, route and cluster: {@code trellis_gateway_requests_total} by status
 * class, {@code trellis_gateway_request_duration_seconds} (histogram) and
 * {@code trellis_gateway_active_connections}. Meters are cached so the hot path does one map lookup.
 */
final class GatewayMetrics {
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> connections = new ConcurrentHashMap<>();

  GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void connectionOpened(String listener, Channel ch) {
    AtomicInteger g = connections.computeIfAbsent(listener, l -> {
      AtomicInteger a = new AtomicInteger();
      Gauge.builder("trellis_gateway_active_connections", a, AtomicInteger::get).tag("listener", l).register(registry);
      return a;
    });
    g.incrementAndGet();
    ch.closeFuture().addListener(f -> g.decrementAndGet());
  }

  void request(String listener, String route, String cluster, int status, long nanos) {
    String cls = status >= 100 && status < 600 ? (status / 100) + "xx" : "other";
    String key = listener + '\0' + route + '\0' + cluster;
    counters.computeIfAbsent(key + '\0' + cls, k -> Counter.builder("trellis_gateway_requests")
        .tags("listener", listener, "route", route, "cluster", cluster, "status_class", cls).register(registry))
        .increment();
    timers.computeIfAbsent(key, k -> Timer.builder("trellis_gateway_request_duration")
        .tags("listener", listener, "route", route, "cluster", cluster)
        .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(60)).register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }
}
