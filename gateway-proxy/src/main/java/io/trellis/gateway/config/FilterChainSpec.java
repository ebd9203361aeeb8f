package io.trellis.gateway.config;

import io.netty.handler.ssl.SslContext;
import java.util.List;

/**
 * A listener filter chain: what to do with a connection whose SNI / transport matched. With {@code tls}
 * set the gateway terminates TLS; a TLS chain without it passes the bytes through untouched.
 */
public record FilterChainSpec(String name, List<String> serverNames, String transportProtocol, SslContext tls,
    boolean mtls, HttpSpec http, TcpSpec tcp) {

  /**
   * HTTP connection manager: routes plus the HTTP filters we implement. {@code rateLimit} (null for none) and
   * {@code faults} (in filter order) act before routing, as Envoy's filters before its router do.
   */
  public record HttpSpec(String statPrefix, String routeConfigName, RouteTable routes, KeyAuthSpec keyAuth,
      RbacSpec rbac, LocalRateLimitSpec rateLimit, List<FaultSpec> faults) {
    public HttpSpec {
      faults = List.copyOf(faults);
    }

    public HttpSpec withRbac(RbacSpec newRbac) {
      return new HttpSpec(statPrefix, routeConfigName, routes, keyAuth, newRbac, rateLimit, faults);
    }
  }

  /**
   * tcp_proxy: weighted clusters, optional network RBAC, optional connection rate limit
   * ({@code envoy.filters.network.local_ratelimit}: a connection without a token is closed at once).
   */
  public record TcpSpec(String statPrefix, List<RouteSpec.WeightedTarget> targets, RbacSpec rbac,
      TokenBucket connectionRate) {
    public TcpSpec withRbac(RbacSpec newRbac) {
      return new TcpSpec(statPrefix, targets, newRbac, connectionRate);
    }

    public String pickCluster() {
      if (targets.size() == 1) {
        return targets.get(0).cluster();
      }
      int total = targets.stream().mapToInt(RouteSpec.WeightedTarget::weight).sum();
      int r = java.util.concurrent.ThreadLocalRandom.current().nextInt(Math.max(total, 1));
      for (var t : targets) {
        r -= t.weight();
        if (r < 0) {
          return t.cluster();
        }
      }
      return targets.get(0).cluster();
    }
  }

  public boolean passthrough() {
    return tls == null && "tls".equals(transportProtocol);
  }
}
