package io.trellis.xds.meshtimeout;

import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.trellis.api.model.MeshTimeoutSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import java.util.List;

/**
 * MeshTimeout → cluster connect timeout and HTTP protocol options, HCM stream timeouts, tcp_proxy idle
 * timeout and route timeouts. Defaults are Kuma's (connect 5s, idle 1h, request 15s, stream idle 30m).
 */
public final class TimeoutConfigurer {
  public static final String POLICY_TYPE = "MeshTimeout";
  static final MeshTimeoutSpec.Conf DEFAULTS = new MeshTimeoutSpec.Conf("5s", "1h",
      new MeshTimeoutSpec.Http("15s", "30m", "0s", "0s", null));

  private TimeoutConfigurer() {}

  /** The effective conf: merged rules over Kuma's defaults, field by field. */
  public static MeshTimeoutSpec.Conf conf(List<PolicyRules> rules) {
    MeshTimeoutSpec.Conf c = Rules.whole(rules, POLICY_TYPE, MeshTimeoutSpec.Conf.class).orElse(null);
    if (c == null) {
      return DEFAULTS;
    }
    MeshTimeoutSpec.Http h = c.http() == null ? DEFAULTS.http() : c.http();
    MeshTimeoutSpec.Http d = DEFAULTS.http();
    return new MeshTimeoutSpec.Conf(
        or(c.connectionTimeout(), DEFAULTS.connectionTimeout()),
        or(c.idleTimeout(), DEFAULTS.idleTimeout()),
        new MeshTimeoutSpec.Http(or(h.requestTimeout(), d.requestTimeout()),
            or(h.streamIdleTimeout(), d.streamIdleTimeout()),
            or(h.maxStreamDuration(), d.maxStreamDuration()),
            or(h.maxConnectionDuration(), d.maxConnectionDuration()),
            h.requestHeadersTimeout()));
  }

  public static com.google.protobuf.Duration connectTimeout(MeshTimeoutSpec.Conf conf) {
    return Protos.duration(conf.connectionTimeout());
  }

  public static HttpProtocolOptions commonHttpOptions(MeshTimeoutSpec.Conf conf) {
    HttpProtocolOptions.Builder b = HttpProtocolOptions.newBuilder().setIdleTimeout(Protos.duration(conf.idleTimeout()));
    if (!isZero(conf.http().maxConnectionDuration())) {
      b.setMaxConnectionDuration(Protos.duration(conf.http().maxConnectionDuration()));
    }
    if (!isZero(conf.http().maxStreamDuration())) {
      b.setMaxStreamDuration(Protos.duration(conf.http().maxStreamDuration()));
    }
    return b.build();
  }

  public static void applyToHcm(HttpConnectionManager.Builder hcm, MeshTimeoutSpec.Conf conf) {
    hcm.setStreamIdleTimeout(Protos.duration(conf.http().streamIdleTimeout()));
    if (conf.http().requestHeadersTimeout() != null) {
      hcm.setRequestHeadersTimeout(Protos.duration(conf.http().requestHeadersTimeout()));
    }
  }

  public static void applyToTcpProxy(TcpProxy.Builder tcp, MeshTimeoutSpec.Conf conf) {
    tcp.setIdleTimeout(Protos.duration(conf.idleTimeout()));
  }

  public static void applyToRoute(RouteAction.Builder route, MeshTimeoutSpec.Conf conf) {
    route.setTimeout(Protos.duration(conf.http().requestTimeout()));
  }

  private static boolean isZero(String d) {
    return d == null || io.trellis.api.model.Durations.parse(d).isZero();
  }

  private static String or(String a, String b) {
    return a != null ? a : b;
  }
}
