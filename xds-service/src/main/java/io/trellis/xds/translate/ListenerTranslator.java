package io.trellis.xds.translate;

import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.MeshTimeoutSpec;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.xds.meshaccesslog.AccessLogConfigurer;
import io.trellis.xds.meshfaultinjection.FaultInjectionConfigurer;
import io.trellis.xds.meshratelimit.RateLimitConfigurer;
import io.trellis.xds.meshretry.RetryConfigurer;
import io.trellis.xds.meshtcproute.TcpRouteConfigurer;
import io.trellis.xds.meshtimeout.TimeoutConfigurer;
import io.trellis.xds.meshtrafficpermission.RbacConfigurer;
import java.util.ArrayList;
import java.util.List;

/**
 * Listeners of a sidecar: one per inbound (mTLS + RBAC + HCM or tcp_proxy), one per outbound, and with
 * transparent proxying the original-destination listeners on 15001 / 15006. Proxyless gRPC instead gets
 * an API listener per outbound service (named by the service, for {@code xds:///<service>}) and a server
 * listener per inbound.
 */
public final class ListenerTranslator {
  public static final String ROUTER = "envoy.filters.http.router";
  public static final String HCM = "envoy.filters.network.http_connection_manager";
  public static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";

  private ListenerTranslator() {}

  public static List<Listener> translate(ProxyInput in) {
    List<Listener> out = new ArrayList<>();
    DataplaneSpec.TransparentProxying tp = in.proxyless() ? null : in.transparentProxying();
    for (InboundView i : in.view().getInboundsList()) {
      boolean transparent = tp != null;
      out.add(in.memo().get(new Memo.Key("inbound-listener", false, i, in.client(), in.mtls(), in.meshName(),
          in.view().getProxyRulesList(), transparent), () -> inbound(in, i, transparent)));
    }
    for (OutboundView o : in.view().getOutboundsList()) {
      boolean transparent = tp != null;
      // Per proxy (the source service and proxy rules go into access logs); a listener reads the
      // outbound's address, port, protocol, service and rules, never its endpoints.
      out.add(in.memo().get(new Memo.Key("listener", false, o.getService(), o.getAddress(), o.getPort(), o.getProtocol(),
              o.getRulesList(), in.client(), transparent, in.meshName(), in.view().getProxyRulesList(),
              in.view().getInboundsCount() == 0 ? "" : in.view().getInbounds(0).getTagsOrDefault("kuma.io/service", "")),
          () -> in.proxyless() ? apiListener(o) : outbound(in, o, transparent)));
    }
    if (tp != null) {
      int outPort = tp.redirectPortOutbound() == null ? 15001 : tp.redirectPortOutbound();
      int inPort = tp.redirectPortInbound() == null ? 15006 : tp.redirectPortInbound();
      out.add(passthrough(ClusterTranslator.OUTBOUND_PASSTHROUGH, outPort, TrafficDirection.OUTBOUND));
      out.add(passthrough(ClusterTranslator.INBOUND_PASSTHROUGH, inPort, TrafficDirection.INBOUND));
    }
    return out;
  }

  static Listener inbound(ProxyInput in, InboundView i, boolean transparent) {
    String service = i.getTagsOrDefault("kuma.io/service", "unknown");
    String address = i.getAddress().isEmpty() ? "0.0.0.0" : i.getAddress();
    String name = in.proxyless() ? Names.grpcServerListener((int) i.getPort()) : Names.inboundListener(address, (int) i.getPort());
    MeshTimeoutSpec.Conf timeouts = TimeoutConfigurer.conf(i.getRulesList());
    FilterChain.Builder chain = FilterChain.newBuilder();
    if (in.mtls()) {
      chain.setTransportSocket(TlsContexts.downstream(in));
    }
    boolean http = in.proxyless() || ClusterTranslator.isHttp(i.getProtocol());
    if (http) {
      HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
          .setStatPrefix(statPrefix(name))
          .setRouteConfig(RouteTranslator.inbound(in, i));
      if (in.mtls()) {
        hcm.addHttpFilters(RbacConfigurer.httpFilter(in.meshName(), i.getRulesList()));
      }
      if (!in.proxyless()) {
        hcm.setCodecType(HttpConnectionManager.CodecType.AUTO);
        TimeoutConfigurer.applyToHcm(hcm, timeouts);
        hcm.addAllHttpFilters(FaultInjectionConfigurer.httpFilters(i.getRulesList()));
        RateLimitConfigurer.httpFilter(i.getRulesList(), statPrefix(name)).ifPresent(hcm::addHttpFilters);
        hcm.addAllAccessLog(AccessLogConfigurer.accessLogs(i.getRulesList(), in.view().getProxyRulesList(),
            in.meshName(), "", service));
      }
      hcm.addHttpFilters(router());
      chain.addFilters(Filter.newBuilder().setName(HCM).setTypedConfig(Protos.any(hcm.build())));
    } else {
      if (in.mtls()) {
        chain.addFilters(RbacConfigurer.networkFilter(in.meshName(), statPrefix(name), i.getRulesList()));
      }
      RateLimitConfigurer.networkFilter(i.getRulesList(), statPrefix(name)).ifPresent(chain::addFilters);
      TcpProxy.Builder tcp = TcpProxy.newBuilder().setStatPrefix(statPrefix(name))
          .setCluster(Names.localCluster((int) i.getServicePort()));
      TimeoutConfigurer.applyToTcpProxy(tcp, timeouts);
      tcp.addAllAccessLog(AccessLogConfigurer.accessLogs(i.getRulesList(), in.view().getProxyRulesList(),
          in.meshName(), "", service));
      chain.addFilters(Filter.newBuilder().setName(TCP_PROXY).setTypedConfig(Protos.any(tcp.build())));
    }
    Listener.Builder l = Listener.newBuilder().setName(name)
        .setAddress(Protos.address(in.proxyless() ? "0.0.0.0" : address, (int) i.getPort()))
        .setTrafficDirection(TrafficDirection.INBOUND)
        .addFilterChains(chain);
    if (transparent) {
      // iptables sends inbound traffic to 15006; the passthrough listener hands it to this one.
      l.setBindToPort(com.google.protobuf.BoolValue.of(false));
    }
    return l.build();
  }

  static Listener outbound(ProxyInput in, OutboundView o, boolean transparent) {
    String name = Names.outboundListener(o.getAddress(), (int) o.getPort());
    MeshTimeoutSpec.Conf timeouts = TimeoutConfigurer.conf(o.getRulesList());
    FilterChain.Builder chain = FilterChain.newBuilder();
    String source = in.view().getInboundsCount() == 0 ? ""
        : in.view().getInbounds(0).getTagsOrDefault("kuma.io/service", "");
    if (ClusterTranslator.isHttp(o.getProtocol())) {
      HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
          .setStatPrefix(statPrefix(name))
          .setCodecType(HttpConnectionManager.CodecType.AUTO)
          .setRds(Rds.newBuilder().setConfigSource(Protos.ads()).setRouteConfigName(Names.outboundRoute(o.getService())));
      TimeoutConfigurer.applyToHcm(hcm, timeouts);
      hcm.addAllAccessLog(AccessLogConfigurer.accessLogs(o.getRulesList(), in.view().getProxyRulesList(),
          in.meshName(), source, o.getService()));
      hcm.addHttpFilters(router());
      chain.addFilters(Filter.newBuilder().setName(HCM).setTypedConfig(Protos.any(hcm.build())));
    } else {
      TcpProxy.Builder tcp = TcpProxy.newBuilder().setStatPrefix(statPrefix(name));
      TcpRouteConfigurer.apply(tcp, o.getService(), o.getRulesList());
      TimeoutConfigurer.applyToTcpProxy(tcp, timeouts);
      RetryConfigurer.applyToTcpProxy(tcp, o.getRulesList());
      tcp.addAllAccessLog(AccessLogConfigurer.accessLogs(o.getRulesList(), in.view().getProxyRulesList(),
          in.meshName(), source, o.getService()));
      chain.addFilters(Filter.newBuilder().setName(TCP_PROXY).setTypedConfig(Protos.any(tcp.build())));
    }
    Listener.Builder l = Listener.newBuilder().setName(name)
        .setAddress(Protos.address(o.getAddress(), (int) o.getPort()))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        .addFilterChains(chain);
    if (transparent) {
      l.setBindToPort(com.google.protobuf.BoolValue.of(false));
    }
    return l.build();
  }

  /** A proxyless gRPC client resolves {@code xds:///<service>} to the listener named {@code <service>}. */
  static Listener apiListener(OutboundView o) {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(o.getService())
        .setRds(Rds.newBuilder().setConfigSource(Protos.ads()).setRouteConfigName(Names.outboundRoute(o.getService())))
        .addHttpFilters(router())
        .build();
    return Listener.newBuilder().setName(o.getService())
        .setApiListener(ApiListener.newBuilder().setApiListener(Protos.any(hcm)))
        .build();
  }

  static Listener passthrough(String name, int port, TrafficDirection direction) {
    TcpProxy tcp = TcpProxy.newBuilder().setStatPrefix(statPrefix(name)).setCluster(name).build();
    return Listener.newBuilder().setName(name)
        .setAddress(Protos.address("0.0.0.0", port))
        .setTrafficDirection(direction)
        // Hands each connection to the listener bound (bind_to_port: false) to its original destination.
        .setUseOriginalDst(com.google.protobuf.BoolValue.of(true))
        .addListenerFilters(ListenerFilter.newBuilder().setName("envoy.filters.listener.original_dst")
            .setTypedConfig(Protos.any(OriginalDst.getDefaultInstance())))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder().setName(TCP_PROXY).setTypedConfig(Protos.any(tcp))))
        .build();
  }

  static HttpFilter router() {
    return HttpFilter.newBuilder().setName(ROUTER).setTypedConfig(Protos.any(Router.getDefaultInstance())).build();
  }

  static String statPrefix(String name) {
    return name.replace(':', '_').replace('/', '_');
  }
}
