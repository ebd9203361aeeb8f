package io.trellis.xds.gateway;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.BackendRef;
import io.trellis.api.model.MeshGatewayKeyAuthSpec;
import io.trellis.api.model.MeshGatewayRouteSpec;
import io.trellis.api.model.MeshGatewaySpec;
import io.trellis.api.model.MeshHttpRouteSpec;
import io.trellis.api.model.MeshTcpRouteSpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.TargetRef;
import io.trellis.api.policy.v1.GatewayView;
import io.trellis.xds.meshhttproute.HttpRouteConfigurer;
import io.trellis.xds.translate.ClusterTranslator;
import io.trellis.xds.translate.EndpointTranslator;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.TlsContexts;
import io.trellis.xds.translate.TranslationException;
import io.trellis.xds.translate.XdsResources;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A builtin gateway Dataplane: one Envoy listener per MeshGateway port (listeners sharing a port are
 * merged), virtual hosts by hostname (wildcards allowed), HTTPS terminated with certificates served over
 * SDS (several per hostname, e.g. RSA and ECDSA), TLS passthrough by SNI to tcp_proxy, TCP, routes from
 * MeshGatewayRoute / MeshHTTPRoute / MeshTCPRoute, key-auth, and mTLS clusters to mesh services.
 * gateway-proxy consumes exactly these resources.
 */
public final class GatewayTranslator {
  private static final ResourceCodec CODEC = new ResourceCodec();
  private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----.*?-----END \\1-----\\s*", Pattern.DOTALL);

  private GatewayTranslator() {}

  public static XdsResources translate(ProxyInput in, List<Secret> meshSecrets) {
    GatewayView gw = in.view().getGateway();
    Resource gateway = CODEC.readUniversal(gw.getMeshGatewayJson());
    MeshGatewaySpec spec = gateway.spec(MeshGatewaySpec.class);
    List<Resource> routes = gw.getRouteJsonsList().stream().map(CODEC::readUniversal).toList();
    MeshGatewayKeyAuthSpec keyAuth = gw.getKeyAuthJson().isEmpty() ? null
        : CODEC.readUniversal(gw.getKeyAuthJson()).spec(MeshGatewayKeyAuthSpec.class);
    Map<String, byte[]> secretData = new TreeMap<>();
    gw.getSecretsMap().forEach((k, v) -> secretData.put(k, v.toByteArray()));

    Map<Integer, List<MeshGatewaySpec.Listener>> byPort = new TreeMap<>();
    if (spec.conf() != null && spec.conf().listeners() != null) {
      spec.conf().listeners().forEach(l -> byPort.computeIfAbsent(l.port(), p -> new ArrayList<>()).add(l));
    }
    List<Listener> listeners = new ArrayList<>();
    List<RouteConfiguration> routeConfigs = new ArrayList<>();
    Map<String, Secret> secrets = new TreeMap<>();
    meshSecrets.forEach(s -> secrets.put(s.getName(), s));
    for (var e : byPort.entrySet()) {
      int port = e.getKey();
      List<MeshGatewaySpec.Listener> ls = e.getValue();
      MeshGatewaySpec.Protocol protocol = ls.get(0).protocol();
      for (MeshGatewaySpec.Listener l : ls) {
        if (l.protocol() != protocol) {
          throw new TranslationException("conf.listeners[port=" + port + "].protocol: " + l.protocol()
              + " (expected: " + protocol + ", like the other listeners on this port)");
        }
      }
      String name = "gateway:" + gateway.name() + ":" + port;
      Listener.Builder listener = Listener.newBuilder().setName(name).setAddress(Protos.address("0.0.0.0", port));
      switch (protocol) {
        case HTTP, HTTPS -> {
          routeConfigs.add(routeConfig(name, ls, routes, keyAuth));
          HttpConnectionManager hcm = hcm(name, keyAuth, secretData);
          if (protocol == MeshGatewaySpec.Protocol.HTTP) {
            listener.addFilterChains(FilterChain.newBuilder().addFilters(hcmFilter(hcm)));
          } else {
            listener.addListenerFilters(tlsInspector());
            for (MeshGatewaySpec.Listener l : ls) {
              FilterChain.Builder chain = FilterChain.newBuilder().setName(hostname(l));
              serverNames(chain, l);
              DownstreamTlsContext.Builder tls = DownstreamTlsContext.newBuilder();
              CommonTlsContext.Builder common = CommonTlsContext.newBuilder();
              List<io.trellis.api.model.DataSource> certs = l.tls() == null || l.tls().certificates() == null ? List.of() : l.tls().certificates();
              if (certs.isEmpty()) {
                throw new TranslationException("conf.listeners[port=" + port + ",hostname=" + hostname(l)
                    + "].tls.certificates: empty (expected: at least one certificate for HTTPS)");
              }
              for (io.trellis.api.model.DataSource ds : certs) {
                Secret s = certificateSecret(ds, secretData);
                secrets.put(s.getName(), s);
                common.addTlsCertificateSdsSecretConfigs(TlsContexts.sds(s.getName()));
              }
              tls.setCommonTlsContext(common);
              chain.setTransportSocket(io.envoyproxy.envoy.config.core.v3.TransportSocket.newBuilder()
                  .setName("envoy.transport_sockets.tls").setTypedConfig(Protos.any(tls.build())));
              chain.addFilters(hcmFilter(hcm));
              listener.addFilterChains(chain);
            }
          }
        }
        case TLS, TCP -> {
          if (protocol == MeshGatewaySpec.Protocol.TLS) {
            listener.addListenerFilters(tlsInspector());
          }
          for (MeshGatewaySpec.Listener l : ls) {
            if (protocol == MeshGatewaySpec.Protocol.TLS && (l.tls() == null || l.tls().mode() != MeshGatewaySpec.TlsMode.PASSTHROUGH)) {
              throw new TranslationException("conf.listeners[port=" + port + "].tls.mode: "
                  + (l.tls() == null ? "missing" : l.tls().mode()) + " (expected: PASSTHROUGH for protocol TLS)");
            }
            List<BackendRef> backends = tcpBackends(l, routes);
            if (backends.isEmpty()) {
              continue; // no route: the connection finds no filter chain and is closed
            }
            FilterChain.Builder chain = FilterChain.newBuilder().setName(hostname(l));
            if (protocol == MeshGatewaySpec.Protocol.TLS) {
              serverNames(chain, l);
            }
            TcpProxy.Builder tcp = TcpProxy.newBuilder().setStatPrefix(name.replace(':', '_'));
            if (backends.size() == 1) {
              tcp.setCluster(HttpRouteConfigurer.clusterOf(backends.get(0)));
            } else {
              TcpProxy.WeightedCluster.Builder w = TcpProxy.WeightedCluster.newBuilder();
              backends.forEach(b -> w.addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                  .setName(HttpRouteConfigurer.clusterOf(b)).setWeight(b.weight() == null ? 1 : b.weight())));
              tcp.setWeightedClusters(w);
            }
            chain.addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy").setTypedConfig(Protos.any(tcp.build())));
            listener.addFilterChains(chain);
          }
        }
      }
      listeners.add(listener.build());
    }
    return new XdsResources(listeners, routeConfigs, ClusterTranslator.translate(in), EndpointTranslator.translate(in),
        new ArrayList<>(secrets.values()));
  }

  static HttpConnectionManager hcm(String name, MeshGatewayKeyAuthSpec keyAuth, Map<String, byte[]> secretData) {
    HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(name.replace(':', '_'))
        .setCodecType(HttpConnectionManager.CodecType.AUTO)
        .setRds(Rds.newBuilder().setConfigSource(Protos.ads()).setRouteConfigName(name));
    if (keyAuth != null) {
      hcm.addHttpFilters(KeyAuthConfigurer.filter(keyAuth, secretData));
    }
    hcm.addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router").setTypedConfig(Protos.any(Router.getDefaultInstance())));
    return hcm.build();
  }

  static RouteConfiguration routeConfig(String name, List<MeshGatewaySpec.Listener> ls, List<Resource> routes,
      MeshGatewayKeyAuthSpec keyAuth) {
    // Key-auth aimed at one MeshHTTPRoute applies to that route only: the others opt out.
    String keyAuthRoute = keyAuth != null && keyAuth.targetRef() != null
        && keyAuth.targetRef().kind() == TargetRef.Kind.MeshHTTPRoute ? keyAuth.targetRef().name() : null;
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(name)
        .setValidateClusters(com.google.protobuf.BoolValue.of(false));
    Map<String, VirtualHost.Builder> vhosts = new LinkedHashMap<>();
    for (MeshGatewaySpec.Listener l : ls) {
      String host = hostname(l);
      VirtualHost.Builder vh = vhosts.computeIfAbsent(host, h -> VirtualHost.newBuilder().setName(h).addDomains(h));
      for (Resource r : routes) {
        for (Route route : httpRoutes(r, host)) {
          if (keyAuthRoute != null && !keyAuthRoute.equals(r.name())) {
            route = route.toBuilder().putTypedPerFilterConfig(KeyAuthConfigurer.FILTER, KeyAuthConfigurer.disabledPerRoute()).build();
          }
          vh.addRoutes(route);
        }
      }
    }
    vhosts.values().forEach(rc::addVirtualHosts);
    return rc.build();
  }

  /** Routes of one route resource for a listener hostname (none when the hostnames do not intersect). */
  static List<Route> httpRoutes(Resource r, String listenerHost) {
    List<Route> out = new ArrayList<>();
    if (r.spec() instanceof MeshGatewayRouteSpec gr && gr.conf() != null && gr.conf().http() != null) {
      if (!hostsIntersect(gr.conf().http().hostnames(), listenerHost)) {
        return out;
      }
      int i = 0;
      for (MeshGatewayRouteSpec.Rule rule : gr.conf().http().rules() == null ? List.<MeshGatewayRouteSpec.Rule>of() : gr.conf().http().rules()) {
        List<BackendRef> backends = rule.backends() == null ? List.of() : rule.backends().stream()
            .map(b -> toBackendRef(b.destination(), b.weight())).toList();
        List<MeshGatewayRouteSpec.Match> matches = rule.matches() == null || rule.matches().isEmpty()
            ? List.of(new MeshGatewayRouteSpec.Match(new MeshGatewayRouteSpec.Path(MeshGatewayRouteSpec.MatchType.PREFIX, "/"), null, null, null))
            : rule.matches();
        for (MeshGatewayRouteSpec.Match m : matches) {
          MeshHttpRouteSpec.PathMatch path = m.path() == null ? null : new MeshHttpRouteSpec.PathMatch(switch (m.path().match()) {
            case EXACT -> MeshHttpRouteSpec.PathMatchType.Exact;
            case REGEX -> MeshHttpRouteSpec.PathMatchType.RegularExpression;
            default -> MeshHttpRouteSpec.PathMatchType.PathPrefix;
          }, m.path().value());
          List<io.trellis.api.model.HttpHeaderMatch> headers = m.headers() == null ? null : m.headers().stream()
              .map(h -> new io.trellis.api.model.HttpHeaderMatch(switch (h.match() == null ? MeshGatewayRouteSpec.MatchType.EXACT : h.match()) {
                case REGEX -> io.trellis.api.model.HttpHeaderMatch.MatchType.RegularExpression;
                case PRESENT -> io.trellis.api.model.HttpHeaderMatch.MatchType.Present;
                case ABSENT -> io.trellis.api.model.HttpHeaderMatch.MatchType.Absent;
                case PREFIX -> io.trellis.api.model.HttpHeaderMatch.MatchType.Prefix;
                default -> io.trellis.api.model.HttpHeaderMatch.MatchType.Exact;
              }, h.name(), h.value())).toList();
          out.add(HttpRouteConfigurer.route(null, r.name() + "-" + i,
              new MeshHttpRouteSpec.Match(path, m.method(), headers, null),
              new MeshHttpRouteSpec.Conf(null, backends), ra -> {}));
        }
        i++;
      }
    } else if (r.spec() instanceof MeshHttpRouteSpec hr && hr.to() != null) {
      for (MeshHttpRouteSpec.To to : hr.to()) {
        if (!hostsIntersect(to.hostnames(), listenerHost) || to.rules() == null) {
          continue;
        }
        int i = 0;
        for (MeshHttpRouteSpec.Rule rule : to.rules()) {
          List<MeshHttpRouteSpec.Match> matches = rule.matches() == null || rule.matches().isEmpty()
              ? List.of(new MeshHttpRouteSpec.Match(null, null, null, null)) : rule.matches();
          for (MeshHttpRouteSpec.Match m : matches) {
            if (rule.conf() == null || rule.conf().backendRefs() == null || rule.conf().backendRefs().isEmpty()) {
              throw new TranslationException("MeshHTTPRoute " + r.name() + " to[].rules[].default.backendRefs: empty "
                  + "(expected: at least one backend for a gateway route)");
            }
            out.add(HttpRouteConfigurer.route(null, r.name() + "-" + i, m, rule.conf(), ra -> {}));
          }
          i++;
        }
      }
    }
    return out;
  }

  static List<BackendRef> tcpBackends(MeshGatewaySpec.Listener l, List<Resource> routes) {
    String host = hostname(l);
    for (Resource r : routes) {
      if (r.spec() instanceof MeshGatewayRouteSpec gr && gr.conf() != null && gr.conf().tcp() != null
          && gr.conf().tcp().rules() != null && !gr.conf().tcp().rules().isEmpty()) {
        var rule = gr.conf().tcp().rules().get(0);
        return rule.backends() == null ? List.of() : rule.backends().stream().map(b -> toBackendRef(b.destination(), b.weight())).toList();
      }
      if (r.spec() instanceof MeshTcpRouteSpec tr && tr.to() != null) {
        for (MeshTcpRouteSpec.To to : tr.to()) {
          // sectionName picks the listener by hostname (TLS passthrough routes are per SNI name).
          boolean forListener = to.targetRef() == null || to.targetRef().sectionName() == null
              || to.targetRef().sectionName().equals(host);
          if (forListener && to.rules() != null && !to.rules().isEmpty() && to.rules().get(0).conf() != null
              && to.rules().get(0).conf().backendRefs() != null) {
            return to.rules().get(0).conf().backendRefs();
          }
        }
      }
    }
    return List.of();
  }

  static BackendRef toBackendRef(Map<String, String> destination, Integer weight) {
    if (destination == null || !destination.containsKey("kuma.io/service")) {
      throw new TranslationException("backends[].destination: " + destination + " (expected: a kuma.io/service tag)");
    }
    Map<String, String> tags = new TreeMap<>(destination);
    String service = tags.remove("kuma.io/service");
    return new BackendRef(tags.isEmpty() ? TargetRef.Kind.MeshService : TargetRef.Kind.MeshServiceSubset, service, null,
        tags.isEmpty() ? null : tags, null, null, weight);
  }

  /** Whether route hostnames (none = all) can match requests for a listener hostname; wildcards either way. */
  static boolean hostsIntersect(List<String> routeHosts, String listenerHost) {
    if (routeHosts == null || routeHosts.isEmpty() || "*".equals(listenerHost)) {
      return true;
    }
    for (String h : routeHosts) {
      if (h.equals(listenerHost) || "*".equals(h) || wildcardMatches(h, listenerHost) || wildcardMatches(listenerHost, h)) {
        return true;
      }
    }
    return false;
  }

  static boolean wildcardMatches(String pattern, String host) {
    return pattern.startsWith("*.") && host.endsWith(pattern.substring(1)) && host.length() > pattern.length() - 1;
  }

  static String hostname(MeshGatewaySpec.Listener l) {
    return l.hostname() == null || l.hostname().isEmpty() ? "*" : l.hostname();
  }

  private static void serverNames(FilterChain.Builder chain, MeshGatewaySpec.Listener l) {
    String host = hostname(l);
    if (!"*".equals(host)) {
      chain.setFilterChainMatch(FilterChainMatch.newBuilder().addServerNames(host));
    }
  }

  private static ListenerFilter tlsInspector() {
    return ListenerFilter.newBuilder().setName("envoy.filters.listener.tls_inspector")
        .setTypedConfig(Protos.any(TlsInspector.getDefaultInstance())).build();
  }

  private static Filter hcmFilter(HttpConnectionManager hcm) {
    return Filter.newBuilder().setName("envoy.filters.network.http_connection_manager").setTypedConfig(Protos.any(hcm)).build();
  }

  /**
   * A certificate DataSource (Secret, inline, inlineString) holding a PEM bundle of the certificate chain
   * and its private key, as one SDS secret named after its source.
   */
  static Secret certificateSecret(io.trellis.api.model.DataSource ds, Map<String, byte[]> secretData) {
    String pem;
    String name;
    if (ds.secret() != null) {
      byte[] data = secretData.get(ds.secret());
      if (data == null) {
        throw new TranslationException("tls.certificates[].secret: " + ds.secret() + " (expected: a Secret in the gateway view)");
      }
      pem = new String(data, StandardCharsets.UTF_8);
      name = "gateway-cert:secret:" + ds.secret();
    } else if (ds.inlineString() != null) {
      pem = ds.inlineString();
      name = "gateway-cert:inline:" + Integer.toHexString(pem.hashCode());
    } else if (ds.inline() != null) {
      pem = new String(Base64.getDecoder().decode(ds.inline()), StandardCharsets.UTF_8);
      name = "gateway-cert:inline:" + Integer.toHexString(pem.hashCode());
    } else {
      throw new TranslationException("tls.certificates[]: " + ds + " (expected: secret, inline or inlineString)");
    }
    StringBuilder chain = new StringBuilder();
    StringBuilder key = new StringBuilder();
    Matcher m = PEM.matcher(pem);
    while (m.find()) {
      (m.group(1).contains("PRIVATE KEY") ? key : chain).append(m.group().trim()).append('\n');
    }
    if (chain.length() == 0 || key.length() == 0) {
      throw new TranslationException("tls.certificates[] " + name + ": " + (chain.length() == 0 ? "no CERTIFICATE block" : "no PRIVATE KEY block")
          + " (expected: a PEM bundle of certificate chain and private key)");
    }
    return Secret.newBuilder().setName(name).setTlsCertificate(TlsCertificate.newBuilder()
        .setCertificateChain(DataSource.newBuilder().setInlineString(chain.toString()))
        .setPrivateKey(DataSource.newBuilder().setInlineString(key.toString()))).build();
  }
}
