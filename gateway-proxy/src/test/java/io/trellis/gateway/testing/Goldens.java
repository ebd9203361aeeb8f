package io.trellis.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Reads the resource sets xds-service's golden tests pin down ({@code xds-service/src/test/resources}, sorted
 * YAML of Envoy v3 resources) so gateway-proxy is tested against exactly what the control plane generates.
 * Read as files, not as a dependency: the services do not import each other.
 */
public final class Goldens {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.TypeRegistry TYPES = JsonFormat.TypeRegistry.newBuilder()
      .add(io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
      .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
      .build();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(TYPES);

  private Goldens() {}

  /** xds-service's test resources; {@code -Dtrellis.xdsGoldens=...} overrides the sibling-module default. */
  public static Path dir() {
    Path p = Path.of(System.getProperty("trellis.xdsGoldens", "../xds-service/src/test/resources"));
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException("xds-service goldens not found at " + p.toAbsolutePath()
          + " (expected: the xds-service module beside gateway-proxy, or -Dtrellis.xdsGoldens=<dir>)");
    }
    return p;
  }

  /** One golden file as a resource set, every resource exactly as written (placeholder secrets included). */
  public static Xds.Set load(String relative) {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readString(dir().resolve(relative)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Xds.Set set = new Xds.Set();
    parse(root, "listeners", Listener::newBuilder, set);
    parse(root, "routes", RouteConfiguration::newBuilder, set);
    parse(root, "clusters", Cluster::newBuilder, set);
    parse(root, "endpoints", ClusterLoadAssignment::newBuilder, set);
    parse(root, "secrets", Secret::newBuilder, set);
    return set;
  }

  private static void parse(JsonNode root, String key, Supplier<? extends Message.Builder> builder, Xds.Set set) {
    for (JsonNode n : root.path(key)) {
      Message.Builder b = builder.get();
      try {
        PARSER.merge(JSON.writeValueAsString(n), b);
      } catch (IOException e) {
        throw new IllegalStateException(key + " " + n.path("name").asText() + ": not an Envoy v3 resource: " + e.getMessage(), e);
      }
      set.add(b.build());
    }
  }

  /**
   * The goldens carry placeholder PEM ("LEAF", "ROOT"): the real material is swapped in by secret name, as
   * ca-service would issue it over SDS.
   */
  public static Xds.Set withSecrets(Xds.Set set, Secret... secrets) {
    for (Secret s : secrets) {
      if (!set.secrets.containsKey(s.getName())) {
        throw new IllegalArgumentException("secret " + s.getName() + " is not referenced by this golden (has: "
            + set.secrets.keySet() + ")");
      }
      set.secrets.put(s.getName(), s);
    }
    return set;
  }

  /**
   * Moves listeners and endpoints from the golden's addresses ({@code 10.0.0.1:8080}, {@code 127.0.0.1:10001})
   * to local ones, so the same resources can be bound and reached in a test. Unmapped addresses stay.
   */
  public static Xds.Set remap(Xds.Set set, Map<String, InetSocketAddress> to) {
    set.listeners.replaceAll((name, l) -> {
      InetSocketAddress a = to.get(key(l.getAddress()));
      return a == null ? l : l.toBuilder().setAddress(address(a)).build();
    });
    set.clusters.replaceAll((name, c) -> c.hasLoadAssignment() ? c.toBuilder().setLoadAssignment(remap(c.getLoadAssignment(), to)).build() : c);
    set.endpoints.replaceAll((name, e) -> remap(e, to));
    return set;
  }

  private static ClusterLoadAssignment remap(ClusterLoadAssignment cla, Map<String, InetSocketAddress> to) {
    ClusterLoadAssignment.Builder b = cla.toBuilder();
    for (LocalityLbEndpoints.Builder l : b.getEndpointsBuilderList()) {
      for (LbEndpoint.Builder e : l.getLbEndpointsBuilderList()) {
        InetSocketAddress a = to.get(key(e.getEndpoint().getAddress()));
        if (a != null) {
          e.getEndpointBuilder().setAddress(address(a));
        }
      }
    }
    return b.build();
  }

  private static String key(Address a) {
    SocketAddress s = a.getSocketAddress();
    return s.getAddress() + ":" + s.getPortValue();
  }

  private static Address address(InetSocketAddress a) {
    return Xds.address(a.getAddress().getHostAddress(), a.getPort());
  }

  /**
   * Replaces every placeholder secret with real material from {@code ca}: named identities as given, other
   * certificates issued on the spot (RSA when the name says so, ECDSA otherwise), validation contexts = the CA.
   */
  public static Xds.Set withTestSecrets(Xds.Set set, Pki ca, Map<String, Pki.Issued> identities) {
    set.secrets.replaceAll((name, s) -> {
      try {
        if (s.hasValidationContext()) {
          return Secret.newBuilder().setName(name).setValidationContext(
              io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.newBuilder()
                  .setTrustedCa(io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder().setInlineString(ca.caPem())))
              .build();
        }
        Pki.Issued id = identities.get(name);
        if (id == null) {
          id = ca.issue(name.contains("rsa") ? Pki.Alg.RSA : Pki.Alg.EC, java.util.List.of("*.example.com", "example.com"),
              java.util.List.of("spiffe://default/test"));
        }
        return Xds.tlsSecret(name, id);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    return set;
  }

  public static Map<String, Listener> listeners(Xds.Set set) {
    return set.listeners;
  }
}
