package io.trellis.gateway.config;

import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream cluster with its resolved endpoints. {@code tls} is set for mesh clusters (mTLS with the
 * gateway's SPIFFE certificate, verifying the upstream's identity). {@code outlier} (Envoy's outlier_detection,
 * null for the data plane's default) drives passive health; {@code maxInFlight} (Envoy's circuit_breakers) bounds
 * the requests or TCP connections in flight to the cluster.
 */
public final class UpstreamCluster {
  /** Envoy's default thresholds (1024 connections, pending requests and requests). */
  public static final int DEFAULT_MAX_IN_FLIGHT = 1024;

  private final String name;
  private final long connectTimeoutMs;
  private final List<InetSocketAddress> endpoints;
  private final SslContext tls;
  private final String sni;
  private final boolean leastRequest;
  private final AtomicInteger next = new AtomicInteger();
  private final OutlierSpec outlier;
  private final int maxInFlight;
  private final HealthCheckSpec healthCheck;
  private final AtomicInteger inFlight = new AtomicInteger();

  public UpstreamCluster(String name, long connectTimeoutMs, List<InetSocketAddress> endpoints, SslContext tls,
      String sni, boolean leastRequest) {
    this(name, connectTimeoutMs, endpoints, tls, sni, leastRequest, null, DEFAULT_MAX_IN_FLIGHT, null);
  }

  public UpstreamCluster(String name, long connectTimeoutMs, List<InetSocketAddress> endpoints, SslContext tls,
      String sni, boolean leastRequest, OutlierSpec outlier, int maxInFlight, HealthCheckSpec healthCheck) {
    this.outlier = outlier;
    this.healthCheck = healthCheck;
    this.maxInFlight = maxInFlight;
    this.name = name;
    this.connectTimeoutMs = connectTimeoutMs;
    this.endpoints = List.copyOf(endpoints);
    this.tls = tls;
    this.sni = sni;
    this.leastRequest = leastRequest;
  }

  public String name() {
    return name;
  }

  public long connectTimeoutMs() {
    return connectTimeoutMs;
  }

  public List<InetSocketAddress> endpoints() {
    return endpoints;
  }

  public SslContext tls() {
    return tls;
  }

  public String sni() {
    return sni;
  }

  /**
   * The TLS handler for a connection to {@code endpoint} (mesh mTLS), null for a plain cluster: SNI is the
   * cluster's configured one, else the endpoint's host, as Envoy's upstream TLS context does.
   */
  public io.netty.handler.ssl.SslHandler newTlsHandler(io.netty.buffer.ByteBufAllocator alloc, InetSocketAddress endpoint) {
    if (tls == null) {
      return null;
    }
    return tls.newHandler(alloc, sni != null ? sni : endpoint.getHostString(), endpoint.getPort());
  }

  public boolean leastRequest() {
    return leastRequest;
  }

  public OutlierSpec outlier() {
    return outlier;
  }

  /** The active health check, null for none. */
  public HealthCheckSpec healthCheck() {
    return healthCheck;
  }

  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * Takes one of the cluster's in-flight slots (circuit breaker); false when all are taken, and the request or
   * connection must be refused (Envoy: 503 with {@code x-envoy-overloaded}). Every true is paired with one
   * {@link #release()}.
   */
  public boolean tryAcquire() {
    while (true) {
      int n = inFlight.get();
      if (n >= maxInFlight) {
        return false;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  public void release() {
    inFlight.decrementAndGet();
  }

  /**
   * The next endpoint not ejected by passive health checking, or null when none is healthy. Round robin,
   * or for LEAST_REQUEST the better of two random picks (Envoy's power-of-two-choices).
   */
  public InetSocketAddress pick(EndpointHealth health, InetSocketAddress avoid) {
    int n = endpoints.size();
    if (n == 0) {
      return null;
    }
    if (leastRequest && n > 1) {
      var rnd = java.util.concurrent.ThreadLocalRandom.current();
      InetSocketAddress a = endpoints.get(rnd.nextInt(n));
      InetSocketAddress b = endpoints.get(rnd.nextInt(n));
      boolean aOk = !health.ejected(a) && !a.equals(avoid);
      boolean bOk = !health.ejected(b) && !b.equals(avoid);
      if (aOk && bOk) {
        return health.active(a) <= health.active(b) ? a : b;
      }
      if (aOk || bOk) {
        return aOk ? a : b;
      }
    }
    int start = Math.floorMod(next.getAndIncrement(), n);
    for (int i = 0; i < n; i++) {
      InetSocketAddress e = endpoints.get((start + i) % n);
      if (!health.ejected(e) && (n == 1 || !e.equals(avoid))) {
        return e;
      }
    }
    return null;
  }
}
