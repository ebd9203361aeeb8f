package io.trellis.xds.translate;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.trellis.api.model.MeshTimeoutSpec;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.xds.meshcircuitbreaker.CircuitBreakerConfigurer;
import io.trellis.xds.meshhealthcheck.HealthCheckConfigurer;
import io.trellis.xds.meshtimeout.TimeoutConfigurer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Clusters of a sidecar: the local app per inbound, one EDS cluster per outbound service and subset. */
public final class ClusterTranslator {
  public static final String OUTBOUND_PASSTHROUGH = "outbound:passthrough:ipv4";
  public static final String INBOUND_PASSTHROUGH = "inbound:passthrough:ipv4";
  static final String HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private ClusterTranslator() {}

  public static List<Cluster> translate(ProxyInput in) {
    Map<String, Cluster> out = new TreeMap<>();
    if (!in.proxyless()) {
      for (InboundView i : in.view().getInboundsList()) {
        String name = Names.localCluster((int) i.getServicePort());
        out.put(name, in.memo().get(new Memo.Key("local-cluster", false, i), () -> local(i)));
      }
      if (in.transparentProxying() != null) {
        out.put(OUTBOUND_PASSTHROUGH, passthrough(OUTBOUND_PASSTHROUGH, null));
        // Inbound passthrough traffic is sent from 127.0.0.6 so the iptables rules do not loop it back.
        out.put(INBOUND_PASSTHROUGH, passthrough(INBOUND_PASSTHROUGH, "127.0.0.6"));
      }
    }
    for (OutboundView o : in.view().getOutboundsList()) {
      out.put(o.getService(), memoized(in, o, o.getService()));
    }
    Backends.subsets(in).forEach((name, subset) -> in.view().getOutboundsList().stream()
        .filter(o -> o.getService().equals(subset.service()))
        .findFirst()
        .ifPresent(o -> out.put(name, memoized(in, o, name))));
    return new ArrayList<>(out.values());
  }

  /** The proxy's own app behind an inbound (reads only the inbound). */
  private static Cluster local(InboundView i) {
    String name = Names.localCluster((int) i.getServicePort());
    MeshTimeoutSpec.Conf timeouts = TimeoutConfigurer.conf(i.getRulesList());
    Cluster.Builder c = Cluster.newBuilder().setName(name)
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(TimeoutConfigurer.connectTimeout(timeouts))
        .setLoadAssignment(EndpointTranslator.assignment(name, List.of(io.trellis.api.policy.v1.Endpoint.newBuilder()
            .setAddress(i.getServiceAddress().isEmpty() ? "127.0.0.1" : i.getServiceAddress())
            .setPort(i.getServicePort()).setHealthy(true).setWeight(1).build()), Map.of()));
    httpOptions(c, i.getProtocol(), timeouts);
    return c.build();
  }

  /**
   * Every input of {@link #outbound}: an EDS cluster reads the service, protocol and rules of the outbound
   * (its endpoints travel over EDS, its local address/port do not matter), so proxies share it.
   */
  private static Cluster memoized(ProxyInput in, OutboundView o, String name) {
    Object endpoints = o.getExternal() ? o.getEndpointsList() : List.of();
    return in.memo().get(new Memo.Key("cluster", true, name, o.getService(), o.getProtocol(), o.getRulesList(),
            o.getExternal(), endpoints, in.meshName(), in.mtls(), in.client()),
        () -> outbound(in, o, name));
  }

  static Cluster outbound(ProxyInput in, OutboundView o, String name) {
    MeshTimeoutSpec.Conf timeouts = TimeoutConfigurer.conf(o.getRulesList());
    Cluster.Builder c = Cluster.newBuilder().setName(name)
        .setConnectTimeout(TimeoutConfigurer.connectTimeout(timeouts))
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    if (o.getExternal()) {
      c.setType(Cluster.DiscoveryType.STRICT_DNS)
          .setLoadAssignment(EndpointTranslator.assignment(name, o.getEndpointsList(), Map.of()));
    } else {
      c.setType(Cluster.DiscoveryType.EDS)
          .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(Protos.ads()).setServiceName(name));
      if (in.mtls()) {
        c.setTransportSocket(TlsContexts.upstream(in, o.getService()));
      }
    }
    if (!in.proxyless()) {
      httpOptions(c, o.getProtocol(), timeouts);
      CircuitBreakerConfigurer.apply(c, o.getRulesList());
      HealthCheckConfigurer.apply(c, o.getRulesList(), o.getProtocol());
    }
    return c.build();
  }

  private static void httpOptions(Cluster.Builder c, String protocol, MeshTimeoutSpec.Conf timeouts) {
    if (!isHttp(protocol)) {
      return;
    }
    HttpProtocolOptions.Builder h = HttpProtocolOptions.newBuilder()
        .setCommonHttpProtocolOptions(TimeoutConfigurer.commonHttpOptions(timeouts));
    if ("http2".equals(protocol) || "grpc".equals(protocol)) {
      h.setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
          .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()));
    } else {
      h.setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
          .setHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance()));
    }
    c.putTypedExtensionProtocolOptions(HTTP_OPTIONS_KEY, Protos.any(h.build()));
  }

  private static Cluster passthrough(String name, String sourceAddress) {
    Cluster.Builder c = Cluster.newBuilder().setName(name)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setConnectTimeout(Protos.seconds(5));
    if (sourceAddress != null) {
      c.setUpstreamBindConfig(BindConfig.newBuilder()
          .setSourceAddress(SocketAddress.newBuilder().setAddress(sourceAddress).setPortValue(0)));
    }
    return c.build();
  }

  public static boolean isHttp(String protocol) {
    return "http".equals(protocol) || "http2".equals(protocol) || "grpc".equals(protocol);
  }
}
