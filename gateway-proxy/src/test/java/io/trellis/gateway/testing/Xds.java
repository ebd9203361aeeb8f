package io.trellis.gateway.testing;

import com.github.xds.type.v3.TypedStruct;
import com.google.protobuf.Any;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.trellis.gateway.config.KeyAuthSpec;
import io.trellis.gateway.config.XdsResources;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Terse builders for the Envoy resources xds-service sends, as tests need them. */
public final class Xds {
  private Xds() {}

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Address address(String host, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port)).build();
  }

  public static HttpConnectionManager.Builder hcm(String rdsName, HttpFilter... filters) {
    HttpConnectionManager.Builder b = HttpConnectionManager.newBuilder().setStatPrefix("gw")
        .setRds(Rds.newBuilder().setRouteConfigName(rdsName));
    for (HttpFilter f : filters) {
      b.addHttpFilters(f);
    }
    b.addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router").setTypedConfig(Any.pack(Router.getDefaultInstance())));
    return b;
  }

  public static Filter hcmFilter(HttpConnectionManager.Builder hcm) {
    return Filter.newBuilder().setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm.build())).build();
  }

  public static Listener httpListener(String name, int port, String rdsName, HttpFilter... filters) {
    return Listener.newBuilder().setName(name).setAddress(address("127.0.0.1", port))
        .addFilterChains(FilterChain.newBuilder().addFilters(hcmFilter(hcm(rdsName, filters)))).build();
  }

  public static FilterChain tlsHttpChain(List<String> serverNames, String rdsName, String... secretNames) {
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder();
    for (String s : secretNames) {
      common.addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName(s));
    }
    return FilterChain.newBuilder()
        .setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(serverNames).setTransportProtocol("tls"))
        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
            .setTypedConfig(Any.pack(DownstreamTlsContext.newBuilder().setCommonTlsContext(common).build())))
        .addFilters(hcmFilter(hcm(rdsName))).build();
  }

  public static FilterChain passthroughChain(List<String> serverNames, String cluster) {
    return FilterChain.newBuilder()
        .setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(serverNames).setTransportProtocol("tls"))
        .addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy")
            .setTypedConfig(Any.pack(TcpProxy.newBuilder().setStatPrefix("pt").setCluster(cluster).build())))
        .build();
  }

  public static Secret tlsSecret(String name, Pki.Issued cert) {
    return Secret.newBuilder().setName(name).setTlsCertificate(TlsCertificate.newBuilder()
        .setCertificateChain(DataSource.newBuilder().setInlineString(cert.chainPem()))
        .setPrivateKey(DataSource.newBuilder().setInlineString(cert.keyPem()))).build();
  }

  public static RouteConfiguration routes(String name, VirtualHost... vhosts) {
    return RouteConfiguration.newBuilder().setName(name).addAllVirtualHosts(List.of(vhosts)).build();
  }

  public static VirtualHost vhost(String name, List<String> domains, Route... routes) {
    return VirtualHost.newBuilder().setName(name).addAllDomains(domains).addAllRoutes(List.of(routes)).build();
  }

  public static Route.Builder prefix(String prefix, String cluster) {
    return Route.newBuilder().setName(prefix + "->" + cluster).setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setCluster(cluster));
  }

  public static Route weighted(String prefix, Map<String, Integer> weights) {
    WeightedCluster.Builder w = WeightedCluster.newBuilder();
    weights.forEach((c, n) -> w.addClusters(WeightedCluster.ClusterWeight.newBuilder().setName(c).setWeight(UInt32Value.of(n))));
    return Route.newBuilder().setName("weighted").setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setWeightedClusters(w)).build();
  }

  public static Cluster edsCluster(String name) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build();
  }

  public static Cluster staticCluster(String name, InetSocketAddress... eps) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2))
        .setLoadAssignment(cla(name, eps)).build();
  }

  public static ClusterLoadAssignment cla(String name, InetSocketAddress... eps) {
    LocalityLbEndpoints.Builder l = LocalityLbEndpoints.newBuilder();
    for (InetSocketAddress a : eps) {
      l.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder()
          .setAddress(address(a.getAddress().getHostAddress(), a.getPort()))));
    }
    return ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(l).build();
  }

  public static Any typedStruct(Struct value) {
    return Any.pack(TypedStruct.newBuilder().setTypeUrl("type.googleapis.com/trellis.gateway.v1.KeyAuth").setValue(value).build());
  }

  public static HttpFilter keyAuth(boolean hide, Map<String, String> keysByUser) {
    ListValue.Builder consumers = ListValue.newBuilder();
    keysByUser.forEach((user, key) -> consumers.addValues(Value.newBuilder().setStructValue(Struct.newBuilder()
        .putFields("username", Value.newBuilder().setStringValue(user).build())
        .putFields("key_sha256", Value.newBuilder().setStringValue(HexFormat.of().formatHex(KeyAuthSpec.sha256(key))).build()))));
    Struct v = Struct.newBuilder()
        .putFields("key_names", Value.newBuilder().setListValue(ListValue.newBuilder()
            .addValues(Value.newBuilder().setStringValue("apikey"))).build())
        .putFields("key_in_header", Value.newBuilder().setBoolValue(true).build())
        .putFields("key_in_query", Value.newBuilder().setBoolValue(true).build())
        .putFields("hide_credentials", Value.newBuilder().setBoolValue(hide).build())
        .putFields("consumers", Value.newBuilder().setListValue(consumers).build()).build();
    return HttpFilter.newBuilder().setName("trellis.key_auth").setTypedConfig(typedStruct(v)).build();
  }

  public static Any keyAuthDisabled() {
    return typedStruct(Struct.newBuilder().putFields("disabled", Value.newBuilder().setBoolValue(true).build()).build());
  }

  /** A resource set keyed by name. */
  public static final class Set {
    final Map<String, Listener> listeners = new LinkedHashMap<>();
    final Map<String, RouteConfiguration> routes = new LinkedHashMap<>();
    final Map<String, Cluster> clusters = new LinkedHashMap<>();
    final Map<String, ClusterLoadAssignment> endpoints = new LinkedHashMap<>();
    final Map<String, Secret> secrets = new LinkedHashMap<>();

    public Set add(Message... ms) {
      for (Message m : ms) {
        if (m instanceof Listener l) {
          listeners.put(l.getName(), l);
        } else if (m instanceof RouteConfiguration r) {
          routes.put(r.getName(), r);
        } else if (m instanceof Cluster c) {
          clusters.put(c.getName(), c);
        } else if (m instanceof ClusterLoadAssignment e) {
          endpoints.put(e.getClusterName(), e);
        } else if (m instanceof Secret s) {
          secrets.put(s.getName(), s);
        } else {
          throw new IllegalArgumentException(m.getClass().getName());
        }
      }
      return this;
    }

    public XdsResources resources() {
      return XdsResources.of(listeners, routes, clusters, endpoints, secrets);
    }

    public List<Message> all() {
      List<Message> out = new java.util.ArrayList<>();
      out.addAll(listeners.values());
      out.addAll(routes.values());
      out.addAll(clusters.values());
      out.addAll(endpoints.values());
      out.addAll(secrets.values());
      return out;
    }
  }
}
