package io.trellis.gateway.config;

import io.netty.handler.ssl.SslContext;
import java.util.List;

/**
 * A listener filter chain: what to do with a connection whose SNI / transport matched. With {@code tls}
 * set the gateway terminates TLS; a TLS chain without it passes the bytes through untouched.
 */
public record FilterChainSpec(String name, List<String> serverNames, String transportProtocol, SslContext tls,
    boolean mtls, HttpSpec http, TcpSpec tcp) {

  /** HTTP connection manager: routes plus the HTTP filters we implement. */
  public record HttpSpec(String statPrefix, String routeConfigName, RouteTable routes, KeyAuthSpec keyAuth,
      RbacSpec rbac) {}

  /** tcp_proxy: weighted clusters, optional network RBAC. */
  public record TcpSpec(String statPrefix, List<RouteSpec.WeightedTarget> targets, RbacSpec rbac) {
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
