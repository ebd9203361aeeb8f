package io.trellis.gateway.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Translates the xDS resources Envoy would receive into the gateway's {@link GatewayConfig}. Pure: no
 * sockets, no CDI. Anything the gateway cannot honour exactly throws {@link IllegalArgumentException}
 * naming the field (the ADS client NACKs with that message); a listener or cluster whose SDS secret or RDS
 * route configuration has not arrived yet is left out ("warming", as Envoy does) and listed in the dump.
 */
public final class XdsTranslator {
  public static final String KEY_AUTH_FILTER = "trellis.key_auth";
  public static final String KEY_AUTH_TYPE = "type.googleapis.com/trellis.gateway.v1.KeyAuth";
  private static final String HCM = "envoy.filters.network.http_connection_manager";
  private static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  private static final String NETWORK_RBAC = "envoy.filters.network.rbac";
  private static final String HTTP_RBAC = "envoy.filters.http.rbac";
  private static final String ROUTER = "envoy.filters.http.router";
  private static final String HTTP_LOCAL_RATELIMIT = "envoy.filters.http.local_ratelimit";
  private static final String HTTP_FAULT = "envoy.filters.http.fault";
  private static final String NETWORK_LOCAL_RATELIMIT = "envoy.filters.network.local_ratelimit";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final XdsResources r;
  private final ObjectNode dump = JSON.createObjectNode();
  private final ArrayNode warming = JSON.createArrayNode();
  private final ArrayNode ignored = JSON.createArrayNode();

  private XdsTranslator(XdsResources r) {
    this.r = r;
  }

  /** Thrown for a resource that refers to one not received yet. */
  static final class Warming extends RuntimeException {
    Warming(String message) {
      super(message, null, false, false);
    }
  }

  public static GatewayConfig translate(XdsResources resources) {
    return new XdsTranslator(resources).run();
  }

  private GatewayConfig run() {
    Map<String, UpstreamCluster> clusters = new LinkedHashMap<>();
    ArrayNode cdump = JSON.createArrayNode();
    for (Cluster c : new TreeMap<>(r.clusters()).values()) {
      try {
        UpstreamCluster uc = cluster(c);
        clusters.put(c.getName(), uc);
        ObjectNode n = cdump.addObject().put("name", c.getName()).put("mtls", uc.tls() != null)
            .put("lb", uc.leastRequest() ? "LEAST_REQUEST" : "ROUND_ROBIN");
        ArrayNode eps = n.putArray("endpoints");
        uc.endpoints().forEach(e -> eps.add(e.getHostString() + ":" + e.getPort()));
      } catch (Warming w) {
        warming.add("Cluster " + c.getName() + ": " + w.getMessage());
      }
    }
    Map<String, ListenerSpec> listeners = new LinkedHashMap<>();
    ArrayNode ldump = JSON.createArrayNode();
    for (Listener l : new TreeMap<>(r.listeners()).values()) {
      try {
        ListenerSpec spec = listener(l, ldump);
        listeners.put(l.getName(), spec);
      } catch (Warming w) {
        warming.add("Listener " + l.getName() + ": " + w.getMessage());
      }
    }
    dump.set("versions", JSON.valueToTree(new TreeMap<>(r.versions())));
    dump.set("listeners", ldump);
    dump.set("clusters", cdump);
    dump.set("warming", warming);
    dump.set("ignored_filters", ignored);
    return new GatewayConfig(Map.copyOf(r.versions()), listeners, clusters, dump.toPrettyString());
  }

  // ---------------------------------------------------------------- listeners

  private ListenerSpec listener(Listener l, ArrayNode ldump) {
    String f = "Listener " + l.getName();
    if (!l.getAddress().hasSocketAddress()) {
      throw new IllegalArgumentException(f + ".address: (expected: socket_address)");
    }
    var sa = l.getAddress().getSocketAddress();
    int port = sa.getPortValue();
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(f + ".address.socket_address.port_value: " + port + " (expected: 1..65535)");
    }
    ObjectNode ln = JSON.createObjectNode().put("name", l.getName()).put("address", sa.getAddress() + ":" + port);
    ArrayNode cn = ln.putArray("filter_chains");
    List<FilterChainSpec> chains = new ArrayList<>();
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      chains.add(chain(l.getFilterChains(i), f + ".filter_chains[" + i + "]", cn));
    }
    FilterChainSpec def = l.hasDefaultFilterChain() ? chain(l.getDefaultFilterChain(), f + ".default_filter_chain", cn) : null;
    boolean inspect = false;
    for (FilterChainSpec c : chains) {
      inspect |= !c.serverNames().isEmpty() || "tls".equals(c.transportProtocol());
    }
    if (def != null) {
      inspect |= "tls".equals(def.transportProtocol());
    }
    ldump.add(ln);
    return new ListenerSpec(l.getName(), sa.getAddress(), port, chains, def, inspect);
  }

  private FilterChainSpec chain(FilterChain fc, String f, ArrayNode cn) {
    var m = fc.getFilterChainMatch();
    List<String> serverNames = m.getServerNamesList();
    String transport = m.getTransportProtocol();
    boolean tlsChain = fc.hasTransportSocket();
    ObjectNode n = cn.addObject().put("name", fc.getName());
    n.set("server_names", JSON.valueToTree(serverNames));
    FilterChainSpec.HttpSpec http = null;
    FilterChainSpec.TcpSpec tcp = null;
    RbacSpec networkRbac = null;
    TokenBucket connectionRate = null;
    for (int i = 0; i < fc.getFiltersCount(); i++) {
      Filter filter = fc.getFilters(i);
      String ff = f + ".filters[" + i + "]";
      String type = filter.getTypedConfig().getTypeUrl();
      if (filter.getName().equals(HCM) || type.endsWith("HttpConnectionManager")) {
        http = hcm(unpack(filter.getTypedConfig(), HttpConnectionManager.class, ff + ".typed_config"), ff);
      } else if (filter.getName().equals(TCP_PROXY) || type.endsWith("TcpProxy")) {
        tcp = tcpProxy(unpack(filter.getTypedConfig(), TcpProxy.class, ff + ".typed_config"), ff);
      } else if (filter.getName().equals(NETWORK_RBAC) || type.endsWith("network.rbac.v3.RBAC")) {
        var rb = unpack(filter.getTypedConfig(),
            io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class, ff + ".typed_config");
        networkRbac = rb.hasRules() ? rbac(rb.getRules(), ff + ".typed_config.rules") : null;
      } else if (filter.getName().equals(NETWORK_LOCAL_RATELIMIT) || type.endsWith("network.local_ratelimit.v3.LocalRateLimit")) {
        var rl = unpack(filter.getTypedConfig(),
            io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.class, ff + ".typed_config");
        if (!rl.hasTokenBucket()) {
          throw new IllegalArgumentException(ff + ".typed_config.token_bucket: missing (expected: a token bucket)");
        }
        connectionRate = tokenBucket(rl.getTokenBucket(), ff + ".typed_config.token_bucket");
      } else {
        throw new IllegalArgumentException(ff + ".name: " + filter.getName()
            + " (expected: http_connection_manager, tcp_proxy, network rbac or network local_ratelimit)");
      }
    }
    if (http == null && tcp == null) {
      throw new IllegalArgumentException(f + ".filters: (expected: an http_connection_manager or tcp_proxy filter)");
    }
    if (http != null && connectionRate != null) {
      // Kuma puts the connection limit on TCP inbounds only; in front of an HCM it would need per-connection
      // handling the HTTP path does not have
      throw new IllegalArgumentException(f + ".filters: network local_ratelimit with an http_connection_manager"
          + " (expected: it only in front of tcp_proxy; HTTP rate limits as envoy.filters.http.local_ratelimit)");
    }
    if (tcp != null && (networkRbac != null || connectionRate != null)) {
      tcp = new FilterChainSpec.TcpSpec(tcp.statPrefix(), tcp.targets(), networkRbac, connectionRate);
    }
    if (http != null && networkRbac != null) {
      // Network RBAC in front of an HCM (Kuma's inbound): the HTTP answer for a denied identity is
      // Envoy's "RBAC: access denied" too, so both rule sets are checked per request.
      http = http.withRbac(http.rbac() == null ? networkRbac : and(http.rbac(), networkRbac));
    }
    io.netty.handler.ssl.SslContext ssl = null;
    boolean mtls = false;
    if (tlsChain) {
      TransportSocket ts = fc.getTransportSocket();
      DownstreamTlsContext dtc = unpack(ts.getTypedConfig(), DownstreamTlsContext.class, f + ".transport_socket.typed_config");
      CommonTlsContext common = dtc.getCommonTlsContext();
      List<TlsContexts.KeyCert> certs = keyCerts(common, f + ".transport_socket.common_tls_context");
      if (certs.isEmpty()) {
        throw new IllegalArgumentException(f + ".transport_socket.common_tls_context.tls_certificates: empty (expected: at least one certificate)");
      }
      Validation v = validation(common, f + ".transport_socket.common_tls_context");
      boolean requireClient = dtc.hasRequireClientCertificate() && dtc.getRequireClientCertificate().getValue();
      if (requireClient && v == null) {
        throw new IllegalArgumentException(f + ".transport_socket.require_client_certificate: true (expected: a validation_context to verify it)");
      }
      mtls = v != null;
      ssl = TlsContexts.server(certs, v == null ? null : v.ca(), http != null, protocols(common.getTlsParams()));
      if (transport.isEmpty()) {
        transport = "tls";
      }
      n.put("tls", "terminate").put("mtls", mtls).put("certificates", certs.size());
    } else if ("tls".equals(transport)) {
      n.put("tls", "passthrough");
    }
    if (http != null) {
      n.put("route_config", http.routeConfigName()).put("key_auth", http.keyAuth() != null).put("rbac", http.rbac() != null);
      if (http.rateLimit() != null) {
        n.put("rate_limit", http.rateLimit().bucket().toString());
      }
      if (!http.faults().isEmpty()) {
        n.put("faults", http.faults().size());
      }
    } else {
      n.set("tcp_proxy", JSON.valueToTree(tcp.targets().stream().map(RouteSpec.WeightedTarget::cluster).toList()));
      if (tcp.connectionRate() != null) {
        n.put("connection_rate_limit", tcp.connectionRate().toString());
      }
    }
    return new FilterChainSpec(fc.getName(), serverNames, transport, ssl, mtls, http, tcp);
  }

  private static RbacSpec and(RbacSpec a, RbacSpec b) {
    return new RbacSpec(true, List.of(new RbacSpec.Policy("and", p -> a.permits(p) && b.permits(p))));
  }

  private static List<String> protocols(TlsParameters p) {
    int min = version(p.getTlsMinimumProtocolVersion(), 2);
    int max = version(p.getTlsMaximumProtocolVersion(), 3);
    List<String> out = new ArrayList<>();
    for (int v = max; v >= min; v--) {
      out.add("TLSv1." + v);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("tls_params: minimum above maximum (expected: TLSv1_2..TLSv1_3)");
    }
    return out;
  }

  private static int version(TlsParameters.TlsProtocol p, int dflt) {
    return switch (p) {
      case TLSv1_2 -> 2;
      case TLSv1_3 -> 3;
      case TLS_AUTO -> dflt;
      // Older protocols are not offered: a request for them is raised to TLS 1.2.
      default -> 2;
    };
  }

  private FilterChainSpec.HttpSpec hcm(HttpConnectionManager h, String f) {
    RouteTable routes;
    String rcName;
    Map<String, Boolean> seen = new LinkedHashMap<>();
    KeyAuthSpec keyAuth = null;
    RbacSpec rbac = null;
    LocalRateLimitSpec rateLimit = null;
    List<FaultSpec> faults = new ArrayList<>();
    for (int i = 0; i < h.getHttpFiltersCount(); i++) {
      HttpFilter hf = h.getHttpFilters(i);
      String ff = f + ".typed_config.http_filters[" + i + "]";
      String type = hf.getTypedConfig().getTypeUrl();
      if (hf.getName().equals(KEY_AUTH_FILTER)) {
        keyAuth = keyAuth(typedStruct(hf.getTypedConfig(), ff + ".typed_config"), ff + ".typed_config.value");
      } else if (hf.getName().equals(HTTP_RBAC) || type.endsWith("http.rbac.v3.RBAC")) {
        var rb = unpack(hf.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class,
            ff + ".typed_config");
        if (rb.hasRules()) {
          rbac = rbac(rb.getRules(), ff + ".typed_config.rules");
        }
      } else if (hf.getName().equals(HTTP_LOCAL_RATELIMIT) || type.endsWith("http.local_ratelimit.v3.LocalRateLimit")) {
        if (rateLimit != null) {
          throw new IllegalArgumentException(ff + ": a second local_ratelimit filter (expected: at most one per listener)");
        }
        rateLimit = localRateLimit(unpack(hf.getTypedConfig(),
            io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.class, ff + ".typed_config"),
            ff + ".typed_config");
      } else if (hf.getName().equals(HTTP_FAULT) || type.endsWith("http.fault.v3.HTTPFault")) {
        faults.add(fault(unpack(hf.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.class,
            ff + ".typed_config"), ff + ".typed_config"));
      } else if (hf.getName().equals(ROUTER) || type.endsWith("router.v3.Router")) {
        seen.put(ROUTER, true);
      } else if (hf.getName().toLowerCase(Locale.ROOT).contains("auth")) {
        // An authentication/authorization filter we cannot enforce must not be skipped silently.
        throw new IllegalArgumentException(ff + ".name: " + hf.getName()
            + " (expected: trellis.key_auth, envoy.filters.http.rbac or a non-security filter)");
      } else {
        ignored.add(hf.getName());
      }
    }
    switch (h.getRouteSpecifierCase()) {
      case RDS -> {
        rcName = h.getRds().getRouteConfigName();
        RouteConfiguration rc = r.routes().get(rcName);
        if (rc == null) {
          throw new Warming("route configuration " + rcName + " not received yet");
        }
        routes = routeTable(rc, "RouteConfiguration " + rcName);
      }
      case ROUTE_CONFIG -> {
        rcName = h.getRouteConfig().getName();
        routes = routeTable(h.getRouteConfig(), f + ".typed_config.route_config");
      }
      default -> throw new IllegalArgumentException(f + ".typed_config.route_specifier: "
          + h.getRouteSpecifierCase() + " (expected: rds or route_config)");
    }
    return new FilterChainSpec.HttpSpec(h.getStatPrefix(), rcName, routes, keyAuth, rbac, rateLimit, faults);
  }

  private static TokenBucket tokenBucket(io.envoyproxy.envoy.type.v3.TokenBucket b, String f) {
    long perFill = b.hasTokensPerFill() ? b.getTokensPerFill().getValue() : 1;
    if (!b.hasFillInterval()) {
      throw new IllegalArgumentException(f + ".fill_interval: missing (expected: a duration of at least 50ms)");
    }
    long interval = nanos(b.getFillInterval());
    try {
      return new TokenBucket(b.getMaxTokens(), perFill, interval, System.nanoTime());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(f + "." + e.getMessage(), e);
    }
  }

  private static LocalRateLimitSpec localRateLimit(
      io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit rl, String f) {
    if (!rl.hasTokenBucket()) {
      // Envoy: without a bucket the filter limits nothing
      return null;
    }
    if (rl.getDescriptorsCount() > 0) {
      throw new IllegalArgumentException(f + ".descriptors: " + rl.getDescriptorsCount()
          + " (expected: none; descriptor-based local rate limits are not supported)");
    }
    TokenBucket bucket = tokenBucket(rl.getTokenBucket(), f + ".token_bucket");
    int status = rl.hasStatus() ? rl.getStatus().getCodeValue() : 429;
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException(f + ".status.code: " + status + " (expected: 200..599)");
    }
    List<LocalRateLimitSpec.Header> headers = new ArrayList<>();
    for (int i = 0; i < rl.getResponseHeadersToAddCount(); i++) {
      var o = rl.getResponseHeadersToAdd(i);
      String hf = f + ".response_headers_to_add[" + i + "]";
      String name = o.getHeader().getKey();
      if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
        throw new IllegalArgumentException(hf + ".header.key: '" + name + "' (expected: an HTTP header name)");
      }
      String value = o.getHeader().getValue();
      if (value.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
        throw new IllegalArgumentException(hf + ".header.value: contains CR, LF or NUL (expected: one header line)");
      }
      boolean overwrite = switch (o.getAppendAction()) {
        case OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS -> true;
        default -> o.hasAppend() && !o.getAppend().getValue();
      };
      headers.add(new LocalRateLimitSpec.Header(name, value, overwrite));
    }
    return new LocalRateLimitSpec(bucket, status, headers,
        rl.hasFilterEnabled() ? perMillion(rl.getFilterEnabled().getDefaultValue()) : 0,
        rl.hasFilterEnforced() ? perMillion(rl.getFilterEnforced().getDefaultValue()) : 0);
  }

  private FaultSpec fault(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault h, String f) {
    int abortStatus = 0;
    int abortPm = 0;
    if (h.hasAbort()) {
      var a = h.getAbort();
      if (a.getErrorTypeCase() != io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort.ErrorTypeCase.HTTP_STATUS) {
        throw new IllegalArgumentException(f + ".abort: " + a.getErrorTypeCase() + " (expected: http_status)");
      }
      abortStatus = a.getHttpStatus();
      if (abortStatus < 200 || abortStatus > 599) {
        throw new IllegalArgumentException(f + ".abort.http_status: " + abortStatus + " (expected: 200..599)");
      }
      abortPm = a.hasPercentage() ? perMillion(a.getPercentage()) : 0;
    }
    long delayNanos = 0;
    int delayPm = 0;
    if (h.hasDelay()) {
      var d = h.getDelay();
      if (!d.hasFixedDelay()) {
        throw new IllegalArgumentException(f + ".delay: " + d.getFaultDelaySecifierCase() + " (expected: fixed_delay)");
      }
      delayNanos = nanos(d.getFixedDelay());
      delayPm = d.hasPercentage() ? perMillion(d.getPercentage()) : 0;
    }
    if (h.hasResponseRateLimit()) {
      // A test-only degradation, not a security decision: listed in the dump's ignored filters (and the
      // admin page) instead of refusing the whole listener set for it. Abort and delay are enforced.
      ignored.add(HTTP_FAULT + ".response_rate_limit");
    }
    return new FaultSpec(abortStatus, abortPm, delayNanos, delayPm);
  }

  /** An Envoy FractionalPercent as parts per million (Envoy's default denominator is HUNDRED). */
  static int perMillion(io.envoyproxy.envoy.type.v3.FractionalPercent p) {
    long scale = switch (p.getDenominator()) {
      case TEN_THOUSAND -> 100;
      case MILLION -> 1;
      default -> 10_000;
    };
    return (int) Math.min(1_000_000L, p.getNumerator() * scale);
  }

  private FilterChainSpec.TcpSpec tcpProxy(TcpProxy t, String f) {
    List<RouteSpec.WeightedTarget> targets = new ArrayList<>();
    switch (t.getClusterSpecifierCase()) {
      case CLUSTER -> targets.add(new RouteSpec.WeightedTarget(t.getCluster(), 1));
      case WEIGHTED_CLUSTERS -> t.getWeightedClusters().getClustersList()
          .forEach(c -> targets.add(new RouteSpec.WeightedTarget(c.getName(), c.getWeight())));
      default -> throw new IllegalArgumentException(f + ".typed_config.cluster_specifier: (expected: cluster or weighted_clusters)");
    }
    return new FilterChainSpec.TcpSpec(t.getStatPrefix(), targets, null, null);
  }

  // ---------------------------------------------------------------- routes

  private RouteTable routeTable(RouteConfiguration rc, String f) {
    List<VirtualHostSpec> vhosts = new ArrayList<>();
    for (int v = 0; v < rc.getVirtualHostsCount(); v++) {
      VirtualHost vh = rc.getVirtualHosts(v);
      String vf = f + ".virtual_hosts[" + v + "]";
      if (vh.getDomainsCount() == 0) {
        throw new IllegalArgumentException(vf + ".domains: empty (expected: at least one domain)");
      }
      boolean vhostKeyAuthOff = keyAuthDisabled(vh.getTypedPerFilterConfigMap(), vf);
      List<RouteSpec> routes = new ArrayList<>();
      for (int i = 0; i < vh.getRoutesCount(); i++) {
        routes.add(route(vh.getRoutes(i), vf + ".routes[" + i + "]", vh.getName() + "/" + i, vhostKeyAuthOff));
      }
      vhosts.add(new VirtualHostSpec(vh.getName(), vh.getDomainsList(), routes));
    }
    return new RouteTable(rc.getName(), vhosts);
  }

  private RouteSpec route(Route rt, String f, String dfltName, boolean vhostKeyAuthOff) {
    RouteMatch m = rt.getMatch();
    boolean ci = m.hasCaseSensitive() && !m.getCaseSensitive().getValue();
    Predicate<String> path;
    String matchedPrefix = null;
    switch (m.getPathSpecifierCase()) {
      case PREFIX -> {
        String p = m.getPrefix();
        matchedPrefix = p;
        path = ci ? s -> s.toLowerCase(Locale.ROOT).startsWith(p.toLowerCase(Locale.ROOT)) : s -> s.startsWith(p);
      }
      case PATH -> {
        String p = m.getPath();
        path = ci ? p::equalsIgnoreCase : p::equals;
      }
      case SAFE_REGEX -> path = StringMatch.regex(m.getSafeRegex().getRegex(), f + ".match.safe_regex.regex");
      case PATH_SEPARATED_PREFIX -> {
        String p = m.getPathSeparatedPrefix();
        matchedPrefix = p;
        path = s -> s.equals(p) || s.startsWith(p.endsWith("/") ? p : p + "/");
      }
      default -> throw new IllegalArgumentException(f + ".match: " + m.getPathSpecifierCase()
          + " (expected: prefix, path, safe_regex or path_separated_prefix)");
    }
    if (m.getQueryParametersCount() > 0) {
      throw new IllegalArgumentException(f + ".match.query_parameters: not supported (expected: none)");
    }
    List<RouteSpec.HeaderMatch> headers = new ArrayList<>();
    for (int i = 0; i < m.getHeadersCount(); i++) {
      headers.add(header(m.getHeaders(i), f + ".match.headers[" + i + "]"));
    }
    boolean keyAuthOff = vhostKeyAuthOff || keyAuthDisabled(rt.getTypedPerFilterConfigMap(), f);
    String name = rt.getName().isEmpty() ? dfltName : rt.getName();
    switch (rt.getActionCase()) {
      case ROUTE -> {
        RouteAction a = rt.getRoute();
        List<RouteSpec.WeightedTarget> targets = new ArrayList<>();
        switch (a.getClusterSpecifierCase()) {
          case CLUSTER -> targets.add(new RouteSpec.WeightedTarget(a.getCluster(), 1));
          case WEIGHTED_CLUSTERS -> {
            for (WeightedCluster.ClusterWeight cw : a.getWeightedClusters().getClustersList()) {
              targets.add(new RouteSpec.WeightedTarget(cw.getName(), cw.hasWeight() ? cw.getWeight().getValue() : 1));
            }
            if (targets.isEmpty()) {
              throw new IllegalArgumentException(f + ".route.weighted_clusters.clusters: empty (expected: at least one)");
            }
          }
          default -> throw new IllegalArgumentException(f + ".route.cluster_specifier: " + a.getClusterSpecifierCase()
              + " (expected: cluster or weighted_clusters)");
        }
        long timeout = a.hasTimeout() ? millis(a.getTimeout()) : 15_000;
        int retries = 0;
        if (a.hasRetryPolicy()) {
          String on = a.getRetryPolicy().getRetryOn();
          if (on.contains("connect-failure") || on.contains("5xx") || on.contains("gateway-error") || on.contains("reset")) {
            retries = a.getRetryPolicy().hasNumRetries() ? a.getRetryPolicy().getNumRetries().getValue() : 1;
          }
        }
        String rewrite = a.getPrefixRewrite().isEmpty() ? null : a.getPrefixRewrite();
        return new RouteSpec(name, path, matchedPrefix, headers, targets, timeout, retries, rewrite, keyAuthOff, 0, null);
      }
      case DIRECT_RESPONSE -> {
        var d = rt.getDirectResponse();
        DataSource body = d.getBody();
        String text = body.hasInlineString() ? body.getInlineString() : body.getInlineBytes().toString(StandardCharsets.UTF_8);
        return new RouteSpec(name, path, matchedPrefix, headers, List.of(), 0, 0, null, keyAuthOff, d.getStatus(), text);
      }
      default -> throw new IllegalArgumentException(f + ".action: " + rt.getActionCase()
          + " (expected: route or direct_response)");
    }
  }

  private static RouteSpec.HeaderMatch header(HeaderMatcher h, String f) {
    String name = h.getName().toLowerCase(Locale.ROOT);
    Predicate<String> value = switch (h.getHeaderMatchSpecifierCase()) {
      case EXACT_MATCH -> h.getExactMatch()::equals;
      case SAFE_REGEX_MATCH -> StringMatch.regex(h.getSafeRegexMatch().getRegex(), f + ".safe_regex_match.regex");
      case PREFIX_MATCH -> s -> s != null && s.startsWith(h.getPrefixMatch());
      case SUFFIX_MATCH -> s -> s != null && s.endsWith(h.getSuffixMatch());
      case CONTAINS_MATCH -> s -> s != null && s.contains(h.getContainsMatch());
      case STRING_MATCH -> StringMatch.of(h.getStringMatch(), f + ".string_match");
      case PRESENT_MATCH, HEADERMATCHSPECIFIER_NOT_SET -> null;
      default -> throw new IllegalArgumentException(f + ": " + h.getHeaderMatchSpecifierCase()
          + " (expected: exact, prefix, suffix, contains, safe_regex, string_match or present_match)");
    };
    boolean invert = h.getInvertMatch();
    if (h.getHeaderMatchSpecifierCase() == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH && !h.getPresentMatch()) {
      invert = !invert;
    }
    return new RouteSpec.HeaderMatch(name, value, invert);
  }

  // ---------------------------------------------------------------- key-auth

  private static Struct typedStruct(Any any, String f) {
    String t = any.getTypeUrl();
    String innerType;
    Struct value;
    try {
      if (t.endsWith("xds.type.v3.TypedStruct")) {
        var ts = any.unpack(com.github.xds.type.v3.TypedStruct.class);
        innerType = ts.getTypeUrl();
        value = ts.getValue();
      } else if (t.endsWith("udpa.type.v1.TypedStruct")) {
        var ts = any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
        innerType = ts.getTypeUrl();
        value = ts.getValue();
      } else {
        throw new IllegalArgumentException(f + ": " + t + " (expected: xds.type.v3.TypedStruct)");
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(f + ": unreadable TypedStruct (expected: xds.type.v3.TypedStruct)");
    }
    if (!KEY_AUTH_TYPE.equals(innerType)) {
      throw new IllegalArgumentException(f + ".type_url: " + innerType + " (expected: " + KEY_AUTH_TYPE + ")");
    }
    return value;
  }

  private static boolean keyAuthDisabled(Map<String, Any> perFilter, String f) {
    Any any = perFilter.get(KEY_AUTH_FILTER);
    if (any == null) {
      return false;
    }
    Struct s = typedStruct(any, f + ".typed_per_filter_config[" + KEY_AUTH_FILTER + "]");
    Value d = s.getFieldsMap().get("disabled");
    return d != null && d.getBoolValue();
  }

  static KeyAuthSpec keyAuth(Struct s, String f) {
    Map<String, Value> m = s.getFieldsMap();
    List<String> names = new ArrayList<>();
    Value kn = m.get("key_names");
    if (kn != null) {
      for (Value v : kn.getListValue().getValuesList()) {
        if (v.getStringValue().isBlank()) {
          throw new IllegalArgumentException(f + ".key_names: blank name (expected: header/query parameter names)");
        }
        names.add(v.getStringValue().toLowerCase(Locale.ROOT));
      }
    }
    if (names.isEmpty()) {
      names.add("apikey");
    }
    boolean inHeader = bool(m, "key_in_header", true);
    boolean inQuery = bool(m, "key_in_query", true);
    boolean hide = bool(m, "hide_credentials", false);
    List<KeyAuthSpec.Consumer> consumers = new ArrayList<>();
    Value cs = m.get("consumers");
    if (cs != null) {
      var list = cs.getListValue().getValuesList();
      for (int i = 0; i < list.size(); i++) {
        var c = list.get(i).getStructValue().getFieldsMap();
        String user = c.containsKey("username") ? c.get("username").getStringValue() : "";
        String hex = c.containsKey("key_sha256") ? c.get("key_sha256").getStringValue() : "";
        if (user.isEmpty()) {
          throw new IllegalArgumentException(f + ".consumers[" + i + "].username: empty (expected: a consumer name)");
        }
        if (!hex.matches("[0-9a-f]{64}")) {
          throw new IllegalArgumentException(f + ".consumers[" + i + "].key_sha256: " + (hex.isEmpty() ? "empty" : "malformed")
              + " (expected: 64 lowercase hex characters, the SHA-256 of the key)");
        }
        consumers.add(new KeyAuthSpec.Consumer(user, HexFormat.of().parseHex(hex)));
      }
    }
    // names in the query string keep their case; header lookups are case-insensitive anyway
    return new KeyAuthSpec(List.copyOf(names), inHeader, inQuery, hide, List.copyOf(consumers));
  }

  private static boolean bool(Map<String, Value> m, String k, boolean dflt) {
    Value v = m.get(k);
    return v == null ? dflt : v.getBoolValue();
  }

  // ---------------------------------------------------------------- RBAC

  static RbacSpec rbac(io.envoyproxy.envoy.config.rbac.v3.RBAC rules, String f) {
    boolean allow = switch (rules.getAction()) {
      case ALLOW -> true;
      case DENY -> false;
      default -> throw new IllegalArgumentException(f + ".action: " + rules.getAction() + " (expected: ALLOW or DENY)");
    };
    List<RbacSpec.Policy> policies = new ArrayList<>();
    for (Map.Entry<String, Policy> e : new TreeMap<>(rules.getPoliciesMap()).entrySet()) {
      String pf = f + ".policies[" + e.getKey() + "]";
      Policy p = e.getValue();
      for (int i = 0; i < p.getPermissionsCount(); i++) {
        requireAny(p.getPermissions(i), pf + ".permissions[" + i + "]");
      }
      List<Predicate<RbacSpec.Peer>> ps = new ArrayList<>();
      for (int i = 0; i < p.getPrincipalsCount(); i++) {
        ps.add(principal(p.getPrincipals(i), pf + ".principals[" + i + "]"));
      }
      boolean noPermissions = p.getPermissionsCount() == 0;
      policies.add(new RbacSpec.Policy(e.getKey(), peer -> {
        if (noPermissions) {
          return false;
        }
        for (var pp : ps) {
          if (pp.test(peer)) {
            return true;
          }
        }
        return false;
      }));
    }
    return new RbacSpec(allow, policies);
  }

  /** Permissions are evaluated per identity only; anything narrower than "any" is refused (NACK). */
  private static void requireAny(Permission p, String f) {
    switch (p.getRuleCase()) {
      case ANY -> { }
      case OR_RULES -> {
        for (int i = 0; i < p.getOrRules().getRulesCount(); i++) {
          requireAny(p.getOrRules().getRules(i), f + ".or_rules.rules[" + i + "]");
        }
      }
      case AND_RULES -> {
        for (int i = 0; i < p.getAndRules().getRulesCount(); i++) {
          requireAny(p.getAndRules().getRules(i), f + ".and_rules.rules[" + i + "]");
        }
      }
      default -> throw new IllegalArgumentException(f + ": " + p.getRuleCase() + " (expected: any)");
    }
  }

  private static Predicate<RbacSpec.Peer> principal(Principal p, String f) {
    return switch (p.getIdentifierCase()) {
      case ANY -> peer -> true;
      case AUTHENTICATED -> {
        if (!p.getAuthenticated().hasPrincipalName()) {
          yield RbacSpec.Peer::authenticated;
        }
        Predicate<String> m = StringMatch.of(p.getAuthenticated().getPrincipalName(), f + ".authenticated.principal_name");
        yield peer -> peer.authenticated() && peer.uriSans().stream().anyMatch(m);
      }
      case OR_IDS -> {
        List<Predicate<RbacSpec.Peer>> ids = new ArrayList<>();
        for (int i = 0; i < p.getOrIds().getIdsCount(); i++) {
          ids.add(principal(p.getOrIds().getIds(i), f + ".or_ids.ids[" + i + "]"));
        }
        yield peer -> ids.stream().anyMatch(x -> x.test(peer));
      }
      case AND_IDS -> {
        List<Predicate<RbacSpec.Peer>> ids = new ArrayList<>();
        for (int i = 0; i < p.getAndIds().getIdsCount(); i++) {
          ids.add(principal(p.getAndIds().getIds(i), f + ".and_ids.ids[" + i + "]"));
        }
        yield peer -> ids.stream().allMatch(x -> x.test(peer));
      }
      case NOT_ID -> {
        Predicate<RbacSpec.Peer> inner = principal(p.getNotId(), f + ".not_id");
        yield inner.negate();
      }
      default -> throw new IllegalArgumentException(f + ": " + p.getIdentifierCase()
          + " (expected: any, authenticated, or_ids, and_ids or not_id)");
    };
  }

  // ---------------------------------------------------------------- clusters

  private UpstreamCluster cluster(Cluster c) {
    String f = "Cluster " + c.getName();
    ClusterLoadAssignment cla;
    if (c.getClusterDiscoveryTypeCase() == Cluster.ClusterDiscoveryTypeCase.TYPE && c.getType() == Cluster.DiscoveryType.EDS) {
      String service = c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName();
      cla = r.endpoints().getOrDefault(service, ClusterLoadAssignment.getDefaultInstance());
    } else {
      cla = c.getLoadAssignment();
    }
    List<InetSocketAddress> eps = new ArrayList<>();
    for (LocalityLbEndpoints lle : cla.getEndpointsList()) {
      for (LbEndpoint lb : lle.getLbEndpointsList()) {
        HealthStatus hs = lb.getHealthStatus();
        if (hs == HealthStatus.UNHEALTHY || hs == HealthStatus.DRAINING || hs == HealthStatus.TIMEOUT) {
          continue;
        }
        var sa = lb.getEndpoint().getAddress().getSocketAddress();
        if (sa.getPortValue() < 1 || sa.getPortValue() > 65535) {
          throw new IllegalArgumentException(f + " endpoint " + sa.getAddress() + ": port " + sa.getPortValue() + " (expected: 1..65535)");
        }
        eps.add(isIpLiteral(sa.getAddress()) ? new InetSocketAddress(sa.getAddress(), sa.getPortValue())
            : InetSocketAddress.createUnresolved(sa.getAddress(), sa.getPortValue()));
      }
    }
    long connectTimeout = c.hasConnectTimeout() ? millis(c.getConnectTimeout()) : 5_000;
    io.netty.handler.ssl.SslContext tls = null;
    String sni = null;
    if (c.hasTransportSocket()) {
      UpstreamTlsContext utc = unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class,
          f + ".transport_socket.typed_config");
      CommonTlsContext common = utc.getCommonTlsContext();
      List<TlsContexts.KeyCert> certs = keyCerts(common, f + ".transport_socket.common_tls_context");
      Validation v = validation(common, f + ".transport_socket.common_tls_context");
      if (v == null) {
        // Without a trust anchor the upstream identity cannot be verified: refuse instead of trusting all.
        throw new IllegalArgumentException(f + ".transport_socket.common_tls_context: no validation context (expected: trusted CA for the upstream)");
      }
      tls = TlsContexts.client(certs.isEmpty() ? null : certs.get(0), v.ca(), v.sanMatch());
      sni = utc.getSni().isEmpty() ? null : utc.getSni();
    }
    boolean leastRequest = c.getLbPolicy() == Cluster.LbPolicy.LEAST_REQUEST;
    return new UpstreamCluster(c.getName(), connectTimeout, eps, tls, sni, leastRequest, outlier(c, f),
        maxInFlight(c, f), healthCheck(c, f));
  }

  /** health_checks: the first HTTP or TCP check (Kuma generates one); others are refused naming the field. */
  private static HealthCheckSpec healthCheck(Cluster c, String f) {
    if (c.getHealthChecksCount() == 0) {
      return null;
    }
    if (c.getHealthChecksCount() > 1) {
      throw new IllegalArgumentException(f + ".health_checks: " + c.getHealthChecksCount() + " checks (expected: one)");
    }
    var hc = c.getHealthChecks(0);
    String hf = f + ".health_checks[0]";
    if (!hc.hasInterval() || millis(hc.getInterval()) < 1) {
      throw new IllegalArgumentException(hf + ".interval: missing or zero (expected: a positive duration)");
    }
    if (!hc.hasTimeout() || millis(hc.getTimeout()) < 1) {
      throw new IllegalArgumentException(hf + ".timeout: missing or zero (expected: a positive duration)");
    }
    if (!hc.hasUnhealthyThreshold() || !hc.hasHealthyThreshold()) {
      throw new IllegalArgumentException(hf + ": unhealthy_threshold and healthy_threshold are required (expected: both set)");
    }
    int unhealthy = Math.max(1, hc.getUnhealthyThreshold().getValue());
    int healthy = Math.max(1, hc.getHealthyThreshold().getValue());
    switch (hc.getHealthCheckerCase()) {
      case HTTP_HEALTH_CHECK -> {
        var h = hc.getHttpHealthCheck();
        if (!h.getPath().startsWith("/")) {
          throw new IllegalArgumentException(hf + ".http_health_check.path: '" + h.getPath() + "' (expected: an absolute path)");
        }
        if (h.getPath().chars().anyMatch(ch -> ch <= ' ' || ch >= 127)) {
          throw new IllegalArgumentException(hf + ".http_health_check.path: contains spaces or control characters (expected: a URL path)");
        }
        List<int[]> ranges = new ArrayList<>();
        for (var r : h.getExpectedStatusesList()) {
          if (r.getStart() < 100 || r.getEnd() > 600 || r.getStart() >= r.getEnd()) {
            throw new IllegalArgumentException(hf + ".http_health_check.expected_statuses: [" + r.getStart() + ", "
                + r.getEnd() + ") (expected: 100 <= start < end <= 600)");
          }
          ranges.add(new int[] {(int) r.getStart(), (int) r.getEnd()});
        }
        if (ranges.isEmpty()) {
          ranges.add(new int[] {200, 201}); // Envoy's default: 200 only
        }
        String host = h.getHost().isEmpty() ? c.getName() : h.getHost();
        return new HealthCheckSpec(millis(hc.getInterval()), millis(hc.getTimeout()), unhealthy, healthy,
            new HealthCheckSpec.Http(h.getPath(), host, ranges), null);
      }
      case TCP_HEALTH_CHECK -> {
        var t = hc.getTcpHealthCheck();
        byte[] send = t.hasSend() ? payload(t.getSend(), hf + ".tcp_health_check.send") : new byte[0];
        List<byte[]> receive = new ArrayList<>();
        for (int i = 0; i < t.getReceiveCount(); i++) {
          receive.add(payload(t.getReceive(i), hf + ".tcp_health_check.receive[" + i + "]"));
        }
        return new HealthCheckSpec(millis(hc.getInterval()), millis(hc.getTimeout()), unhealthy, healthy, null,
            new HealthCheckSpec.Tcp(send, receive));
      }
      default -> throw new IllegalArgumentException(hf + ": " + hc.getHealthCheckerCase()
          + " (expected: http_health_check or tcp_health_check)");
    }
  }

  private static byte[] payload(io.envoyproxy.envoy.config.core.v3.HealthCheck.Payload p, String f) {
    return switch (p.getPayloadCase()) {
      case TEXT -> {
        try {
          yield HexFormat.of().parseHex(p.getText());
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(f + ".text: '" + p.getText() + "' (expected: hex-encoded bytes)");
        }
      }
      case BINARY -> p.getBinary().toByteArray();
      default -> throw new IllegalArgumentException(f + ": empty (expected: text or binary)");
    };
  }

  /** outlier_detection with Envoy's defaults for what is unset, validated as Envoy's proto constraints say. */
  private static OutlierSpec outlier(Cluster c, String f) {
    if (!c.hasOutlierDetection()) {
      return null;
    }
    var o = c.getOutlierDetection();
    String p = f + ".outlier_detection.";
    long interval = o.hasInterval() ? millis(o.getInterval()) : 10_000;
    long base = o.hasBaseEjectionTime() ? millis(o.getBaseEjectionTime()) : 30_000;
    if (o.hasInterval() && interval <= 0) {
      throw new IllegalArgumentException(p + "interval: " + interval + "ms (expected: a duration > 0)");
    }
    if (o.hasBaseEjectionTime() && base <= 0) {
      throw new IllegalArgumentException(p + "base_ejection_time: " + base + "ms (expected: a duration > 0)");
    }
    return new OutlierSpec(
        new OutlierSpec.Consecutive(u32(o.hasConsecutive5Xx(), o.getConsecutive5Xx(), 5),
            percent(p + "enforcing_consecutive_5xx", o.hasEnforcingConsecutive5Xx(), o.getEnforcingConsecutive5Xx(), 100)),
        new OutlierSpec.Consecutive(u32(o.hasConsecutiveGatewayFailure(), o.getConsecutiveGatewayFailure(), 5),
            percent(p + "enforcing_consecutive_gateway_failure", o.hasEnforcingConsecutiveGatewayFailure(),
                o.getEnforcingConsecutiveGatewayFailure(), 0)),
        new OutlierSpec.Consecutive(u32(o.hasConsecutiveLocalOriginFailure(), o.getConsecutiveLocalOriginFailure(), 5),
            percent(p + "enforcing_consecutive_local_origin_failure", o.hasEnforcingConsecutiveLocalOriginFailure(),
                o.getEnforcingConsecutiveLocalOriginFailure(), 100)),
        o.getSplitExternalLocalOriginErrors(),
        interval,
        base,
        o.hasMaxEjectionTime() ? millis(o.getMaxEjectionTime()) : 300_000,
        o.hasMaxEjectionTimeJitter() ? millis(o.getMaxEjectionTimeJitter()) : 0,
        percent(p + "max_ejection_percent", o.hasMaxEjectionPercent(), o.getMaxEjectionPercent(), 10),
        new OutlierSpec.SuccessRate(
            percent(p + "enforcing_success_rate", o.hasEnforcingSuccessRate(), o.getEnforcingSuccessRate(), 100),
            percent(p + "enforcing_local_origin_success_rate", o.hasEnforcingLocalOriginSuccessRate(),
                o.getEnforcingLocalOriginSuccessRate(), 100),
            u32(o.hasSuccessRateMinimumHosts(), o.getSuccessRateMinimumHosts(), 5),
            u32(o.hasSuccessRateRequestVolume(), o.getSuccessRateRequestVolume(), 100),
            u32(o.hasSuccessRateStdevFactor(), o.getSuccessRateStdevFactor(), 1900)),
        new OutlierSpec.FailurePercentage(
            percent(p + "enforcing_failure_percentage", o.hasEnforcingFailurePercentage(), o.getEnforcingFailurePercentage(), 0),
            percent(p + "enforcing_failure_percentage_local_origin", o.hasEnforcingFailurePercentageLocalOrigin(),
                o.getEnforcingFailurePercentageLocalOrigin(), 0),
            percent(p + "failure_percentage_threshold", o.hasFailurePercentageThreshold(),
                o.getFailurePercentageThreshold(), 85),
            u32(o.hasFailurePercentageMinimumHosts(), o.getFailurePercentageMinimumHosts(), 5),
            u32(o.hasFailurePercentageRequestVolume(), o.getFailurePercentageRequestVolume(), 50)),
        !o.hasSuccessfulActiveHealthCheckUnejectHost() || o.getSuccessfulActiveHealthCheckUnejectHost().getValue());
  }

  private static int u32(boolean set, com.google.protobuf.UInt32Value v, int unset) {
    return set ? (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(v.getValue())) : unset;
  }

  private static int percent(String field, boolean set, com.google.protobuf.UInt32Value v, int unset) {
    int n = u32(set, v, unset);
    if (n > 100) {
      throw new IllegalArgumentException(field + ": " + Integer.toUnsignedLong(v.getValue()) + " (expected: 0..100)");
    }
    return n;
  }

  /**
   * circuit_breakers (default priority): one upstream connection carries one request here, so a request needs a
   * connection or a pending slot: at most min(max_requests, max_connections + max_pending_requests) in flight.
   */
  private static int maxInFlight(Cluster c, String f) {
    if (!c.hasCircuitBreakers()) {
      return UpstreamCluster.DEFAULT_MAX_IN_FLIGHT;
    }
    for (var t : c.getCircuitBreakers().getThresholdsList()) {
      if (t.getPriority() != io.envoyproxy.envoy.config.core.v3.RoutingPriority.DEFAULT) {
        continue;
      }
      long connections = t.hasMaxConnections() ? t.getMaxConnections().getValue() : 1024;
      long pending = t.hasMaxPendingRequests() ? t.getMaxPendingRequests().getValue() : 1024;
      long requests = t.hasMaxRequests() ? t.getMaxRequests().getValue() : 1024;
      long limit = Math.min(requests, connections + pending);
      if (limit < 1) {
        throw new IllegalArgumentException(f + ".circuit_breakers.thresholds: no request may pass (expected: limits of at least 1)");
      }
      return (int) Math.min(Integer.MAX_VALUE, limit);
    }
    return UpstreamCluster.DEFAULT_MAX_IN_FLIGHT;
  }

  private static boolean isIpLiteral(String s) {
    return s.matches("[0-9.]+") || s.contains(":");
  }

  // ---------------------------------------------------------------- secrets

  private record Validation(List<X509Certificate> ca, Predicate<String> sanMatch) {}

  private List<TlsContexts.KeyCert> keyCerts(CommonTlsContext common, String f) {
    List<TlsContexts.KeyCert> out = new ArrayList<>();
    for (int i = 0; i < common.getTlsCertificatesCount(); i++) {
      out.add(keyCert(common.getTlsCertificates(i), f + ".tls_certificates[" + i + "]"));
    }
    for (int i = 0; i < common.getTlsCertificateSdsSecretConfigsCount(); i++) {
      SdsSecretConfig sds = common.getTlsCertificateSdsSecretConfigs(i);
      Secret s = secret(sds.getName());
      if (!s.hasTlsCertificate()) {
        throw new IllegalArgumentException("Secret " + sds.getName() + ": (expected: tls_certificate, referenced by " + f + ")");
      }
      out.add(keyCert(s.getTlsCertificate(), "Secret " + sds.getName() + ".tls_certificate"));
    }
    return out;
  }

  private Secret secret(String name) {
    Secret s = r.secrets().get(name);
    if (s == null) {
      throw new Warming("secret " + name + " not received yet");
    }
    return s;
  }

  private static TlsContexts.KeyCert keyCert(TlsCertificate tc, String f) {
    String chain = data(tc.getCertificateChain(), f + ".certificate_chain");
    String key = data(tc.getPrivateKey(), f + ".private_key");
    return new TlsContexts.KeyCert(Pem.privateKey(key, f + ".private_key"), Pem.certificates(chain, f + ".certificate_chain"));
  }

  private Validation validation(CommonTlsContext common, String f) {
    CertificateValidationContext ctx;
    CertificateValidationContext sanSource = null;
    switch (common.getValidationContextTypeCase()) {
      case VALIDATION_CONTEXT -> ctx = common.getValidationContext();
      case VALIDATION_CONTEXT_SDS_SECRET_CONFIG -> ctx = validationSecret(common.getValidationContextSdsSecretConfig().getName(), f);
      case COMBINED_VALIDATION_CONTEXT -> {
        var comb = common.getCombinedValidationContext();
        sanSource = comb.getDefaultValidationContext();
        ctx = comb.hasValidationContextSdsSecretConfig()
            ? validationSecret(comb.getValidationContextSdsSecretConfig().getName(), f) : sanSource;
      }
      default -> {
        return null;
      }
    }
    if (!ctx.hasTrustedCa()) {
      throw new IllegalArgumentException(f + ".validation_context.trusted_ca: missing (expected: PEM CA certificates)");
    }
    List<X509Certificate> ca = Pem.certificates(data(ctx.getTrustedCa(), f + ".validation_context.trusted_ca"),
        f + ".validation_context.trusted_ca");
    List<Predicate<String>> sans = new ArrayList<>();
    for (CertificateValidationContext c : sanSource == null ? List.of(ctx) : List.of(ctx, sanSource)) {
      for (int i = 0; i < c.getMatchTypedSubjectAltNamesCount(); i++) {
        SubjectAltNameMatcher sm = c.getMatchTypedSubjectAltNames(i);
        if (sm.getSanType() != SubjectAltNameMatcher.SanType.URI) {
          throw new IllegalArgumentException(f + ".match_typed_subject_alt_names[" + i + "].san_type: " + sm.getSanType() + " (expected: URI)");
        }
        sans.add(StringMatch.of(sm.getMatcher(), f + ".match_typed_subject_alt_names[" + i + "].matcher"));
      }
      for (int i = 0; i < c.getMatchSubjectAltNamesCount(); i++) {
        StringMatcher sm = c.getMatchSubjectAltNames(i);
        sans.add(StringMatch.of(sm, f + ".match_subject_alt_names[" + i + "]"));
      }
    }
    Predicate<String> sanMatch = sans.isEmpty() ? null : s -> sans.stream().anyMatch(p -> p.test(s));
    return new Validation(ca, sanMatch);
  }

  private CertificateValidationContext validationSecret(String name, String f) {
    Secret s = secret(name);
    if (!s.hasValidationContext()) {
      throw new IllegalArgumentException("Secret " + name + ": (expected: validation_context, referenced by " + f + ")");
    }
    return s.getValidationContext();
  }

  private static String data(DataSource d, String f) {
    return switch (d.getSpecifierCase()) {
      case INLINE_STRING -> d.getInlineString();
      case INLINE_BYTES -> d.getInlineBytes().toString(StandardCharsets.UTF_8);
      case FILENAME -> {
        try {
          yield Files.readString(Path.of(d.getFilename()));
        } catch (IOException e) {
          throw new IllegalArgumentException(f + ".filename: " + d.getFilename() + " unreadable (expected: a readable PEM file)");
        }
      }
      default -> throw new IllegalArgumentException(f + ": empty (expected: inline_string, inline_bytes or filename)");
    };
  }

  private static long nanos(com.google.protobuf.Duration d) {
    return d.getSeconds() * 1_000_000_000L + d.getNanos();
  }

  private static long millis(com.google.protobuf.Duration d) {
    return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
  }

  private static <T extends Message> T unpack(Any any, Class<T> type, String f) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(f + ": " + any.getTypeUrl() + " (expected: " + type.getSimpleName() + ")");
    }
  }
}
