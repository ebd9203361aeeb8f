package io.trellis.xds.translate;

import io.envoyproxy.envoy.config.route.v3.NonForwardingAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.trellis.api.model.MeshTimeoutSpec;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.xds.meshhttproute.HttpRouteConfigurer;
import io.trellis.xds.meshretry.RetryConfigurer;
import io.trellis.xds.meshtimeout.TimeoutConfigurer;
import java.util.ArrayList;
import java.util.List;

/**
 * Route configurations: one per HTTP outbound (served over RDS; proxyless gRPC gets one per outbound since
 * its API listeners always route over HTTP/2), and the inline ones of inbound listeners.
 */
public final class RouteTranslator {
  private RouteTranslator() {}

  public static List<RouteConfiguration> translate(ProxyInput in) {
    List<RouteConfiguration> out = new ArrayList<>();
    for (OutboundView o : in.view().getOutboundsList()) {
      if (in.proxyless() || ClusterTranslator.isHttp(o.getProtocol())) {
        // a route reads the service, protocol and rules of an outbound, never its endpoints
        out.add(in.memo().get(new Memo.Key("route", true, o.getService(), o.getProtocol(), o.getRulesList(), in.client()),
            () -> outbound(in, o)));
      }
    }
    return out;
  }

  static RouteConfiguration outbound(ProxyInput in, OutboundView o) {
    MeshTimeoutSpec.Conf timeouts = TimeoutConfigurer.conf(o.getRulesList());
    List<Route> routes = HttpRouteConfigurer.routes(o.getService(), o.getRulesList(), ra -> {
      if (!in.proxyless()) {
        TimeoutConfigurer.applyToRoute(ra, timeouts);
      }
      RetryConfigurer.retryPolicy(o.getRulesList(), o.getProtocol()).ifPresent(ra::setRetryPolicy);
    });
    VirtualHost.Builder vh = VirtualHost.newBuilder().setName(o.getService()).addDomains("*").addAllRoutes(routes);
    return RouteConfiguration.newBuilder().setName(Names.outboundRoute(o.getService()))
        .setValidateClusters(com.google.protobuf.BoolValue.of(false))
        .addVirtualHosts(vh).build();
  }

  /** The inline route of an inbound HCM: everything to the local app. */
  static RouteConfiguration inbound(ProxyInput in, InboundView i) {
    String service = i.getTagsOrDefault("kuma.io/service", "unknown");
    Route.Builder route = Route.newBuilder().setName("inbound:" + service).setMatch(RouteMatch.newBuilder().setPrefix("/"));
    if (in.proxyless()) {
      // An xDS-enabled gRPC server serves the call itself; the route only selects filters.
      route.setNonForwardingAction(NonForwardingAction.getDefaultInstance());
    } else {
      RouteAction.Builder ra = RouteAction.newBuilder().setCluster(Names.localCluster((int) i.getServicePort()));
      TimeoutConfigurer.applyToRoute(ra, TimeoutConfigurer.conf(i.getRulesList()));
      route.setRoute(ra);
    }
    return RouteConfiguration.newBuilder().setName(Names.inboundRoute(service))
        .addVirtualHosts(VirtualHost.newBuilder().setName(service).addDomains("*").addRoutes(route))
        .build();
  }
}
