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
 * {@code trellis_gateway_active_connections}; {@code trellis_gateway_rate_limited_total} by listener and kind. Meters are cached so the hot path does one map lookup.
 */
final class GatewayMetrics {
  private final MeterRegistry registry;
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

  private final ConcurrentHashMap<String, Counter> rateLimited = new ConcurrentHashMap<>();

  /** A request (kind "request") or connection (kind "connection") refused by MeshRateLimit on a listener. */
  void rateLimited(String listener, String kind) {
    rateLimited.computeIfAbsent(kind + "\n" + listener, k -> Counter.builder("trellis_gateway_rate_limited")
        .description("requests or connections refused by a local rate limit (MeshRateLimit)")
        .tags("listener", listener, "kind", kind).register(registry)).increment();
  }

  private final ConcurrentHashMap<String, Counter> overflows = new ConcurrentHashMap<>();

  /** A request or TCP connection refused because the cluster's circuit breaker was open. */
  void overflow(String cluster) {
    overflows.computeIfAbsent(cluster, c -> Counter.builder("trellis_gateway_upstream_overflow")
        .description("requests or connections refused by a cluster's circuit breaker (MeshCircuitBreaker)")
        .tag("cluster", c).register(registry)).increment();
  }

  void request(String listener, String route, String cluster, int status, long nanos) {
    meters(listener, route, cluster).record(status, nanos);
  }

  private record Key(String listener, String route, String cluster) {}

  private final ConcurrentHashMap<Key, RouteMeters> meters = new ConcurrentHashMap<>();

  /** The meters of one listener/route/cluster; callers keep the last one so a keep-alive connection looks up once. */
  RouteMeters meters(String listener, String route, String cluster) {
    return meters.computeIfAbsent(new Key(listener, route, cluster), k -> new RouteMeters(registry, k));
  }

  static final class RouteMeters {
    private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
    private final MeterRegistry registry;
    private final Key key;
    private final java.util.concurrent.atomic.AtomicReferenceArray<Counter> byClass =
        new java.util.concurrent.atomic.AtomicReferenceArray<>(CLASSES.length);
    private final Timer timer;

    private RouteMeters(MeterRegistry registry, Key key) {
      this.registry = registry;
      this.key = key;
      this.timer = Timer.builder("trellis_gateway_request_duration")
          .tags("listener", key.listener(), "route", key.route(), "cluster", key.cluster())
          .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    }

    boolean is(String listener, String route, String cluster) {
      return key.listener().equals(listener) && key.route().equals(route) && key.cluster().equals(cluster);
    }

    void record(int status, long nanos) {
      int i = status >= 100 && status < 600 ? status / 100 - 1 : CLASSES.length - 1;
      Counter c = byClass.get(i);
      if (c == null) {
        // Registration is idempotent in Micrometer: two event loops racing here get the same counter.
        c = Counter.builder("trellis_gateway_requests").tags("listener", key.listener(), "route", key.route(),
            "cluster", key.cluster(), "status_class", CLASSES[i]).register(registry);
        byClass.set(i, c);
      }
      c.increment();
      timer.record(nanos, TimeUnit.NANOSECONDS);
    }
  }
}
