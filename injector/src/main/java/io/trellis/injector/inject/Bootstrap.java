package io.trellis.injector.inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * The Envoy bootstrap of an injected sidecar, as JSON: ADS over gRPC to xds-service (TLS, the CA
 * inlined, the pod's projected token as bearer), the admin on loopback only, a listener that
 * exposes only {@code /ready} to the kubelet, and the virtual-probe listener.
 *
 * <p>{@value #POD_NAME} and {@value #TOKEN} are filled in by the sidecar's start script: the pod
 * name is not known at admission (generateName) and the token is only mounted in the pod.
 */
final class Bootstrap {
  static final String POD_NAME = "__POD_NAME__";
  static final String TOKEN = "__TOKEN__";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HCM =
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  private static final String ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

  private Bootstrap() {}

  static String json(InjectionSettings s, String mesh, String namespace, boolean gateway, List<String> reachableServices,
      SortedSet<Integer> probedPorts) {
    Map<String, Object> metadata = map(
        "trellis.io/mesh", mesh,
        "trellis.io/dataplane", POD_NAME + "." + namespace,
        "trellis.io/namespace", namespace,
        "trellis.io/transparent-proxying-inbound-port", s.inboundPort(),
        "trellis.io/transparent-proxying-outbound-port", s.outboundPort(),
        "trellis.io/admin-port", s.adminPort());
    if (gateway) {
      metadata.put("trellis.io/gateway", "delegated");
    }
    if (!reachableServices.isEmpty()) {
      metadata.put("trellis.io/reachable-services", String.join(",", reachableServices));
    }
    String[] hostPort = splitHostPort(s.xdsAddress());

    List<Object> clusters = new ArrayList<>();
    clusters.add(map(
        "name", "trellis_xds",
        "type", "STRICT_DNS",
        "connect_timeout", "5s",
        "typed_extension_protocol_options", map(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", map(
                "@type", "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config", map("http2_protocol_options", map()))),
        "load_assignment", endpoint("trellis_xds", hostPort[0], Integer.parseInt(hostPort[1])),
        "transport_socket", map(
            "name", "envoy.transport_sockets.tls",
            "typed_config", map(
                "@type", "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni", hostPort[0],
                "common_tls_context", map(
                    "validation_context", map(
                        "trusted_ca", map("inline_string", s.xdsCaPem()),
                        "match_typed_subject_alt_names", List.of(map("san_type", "DNS", "matcher", map("exact", hostPort[0])))))))));
    clusters.add(map("name", "trellis_admin", "type", "STATIC", "connect_timeout", "1s",
        "load_assignment", endpoint("trellis_admin", "127.0.0.1", s.adminPort())));
    List<Object> probeRoutes = new ArrayList<>();
    for (int port : probedPorts) {
      String cluster = "trellis_probe_" + port;
      clusters.add(map("name", cluster, "type", "STATIC", "connect_timeout", "1s",
          "load_assignment", endpoint(cluster, "127.0.0.1", port)));
      probeRoutes.add(map("match", map("prefix", "/" + port + "/"), "route", map("cluster", cluster, "prefix_rewrite", "/")));
      probeRoutes.add(map("match", map("path", "/" + port), "route", map("cluster", cluster, "prefix_rewrite", "/")));
    }

    List<Object> listeners = new ArrayList<>();
    listeners.add(httpListener("trellis_readiness", s.readinessPort(), List.of(
        map("match", map("path", "/ready"), "route", map("cluster", "trellis_admin")),
        map("match", map("prefix", "/"), "direct_response", map("status", 404)))));
    if (!probedPorts.isEmpty()) {
      List<Object> routes = new ArrayList<>(probeRoutes);
      routes.add(map("match", map("prefix", "/"), "direct_response", map("status", 404)));
      listeners.add(httpListener("trellis_virtual_probes", s.virtualProbesPort(), routes));
    }

    Map<String, Object> bootstrap = map(
        "node", map("id", mesh + "." + POD_NAME + "." + namespace, "cluster", mesh, "metadata", metadata),
        "admin", map("address", socket("127.0.0.1", s.adminPort())),
        "dynamic_resources", map(
            "ads_config", map(
                "api_type", "GRPC",
                "transport_api_version", "V3",
                "set_node_on_first_message_only", true,
                "grpc_services", List.of(map(
                    "envoy_grpc", map("cluster_name", "trellis_xds"),
                    "initial_metadata", List.of(map("key", "authorization", "value", "Bearer " + TOKEN))))),
            "cds_config", map("ads", map(), "resource_api_version", "V3"),
            "lds_config", map("ads", map(), "resource_api_version", "V3")),
        "static_resources", map("clusters", clusters, "listeners", listeners));
    try {
      return JSON.writeValueAsString(bootstrap);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String[] splitHostPort(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalStateException("trellis.injector.xds.address: " + address + " (expected: host:port)");
    }
    return new String[] {address.substring(0, colon), address.substring(colon + 1)};
  }

  private static Map<String, Object> httpListener(String name, int port, List<Object> routes) {
    return map(
        "name", name,
        "address", socket("0.0.0.0", port),
        "filter_chains", List.of(map("filters", List.of(map(
            "name", "envoy.filters.network.http_connection_manager",
            "typed_config", map(
                "@type", HCM,
                "stat_prefix", name,
                "route_config", map("virtual_hosts", List.of(map("name", name, "domains", List.of("*"), "routes", routes))),
                "http_filters", List.of(map("name", "envoy.filters.http.router", "typed_config", map("@type", ROUTER)))))))));
  }

  private static Map<String, Object> endpoint(String cluster, String host, int port) {
    return map("cluster_name", cluster, "endpoints", List.of(map("lb_endpoints", List.of(map("endpoint", map("address", socket(host, port)))))));
  }

  private static Map<String, Object> socket(String host, int port) {
    return map("socket_address", map("address", host, "port_value", port));
  }

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
