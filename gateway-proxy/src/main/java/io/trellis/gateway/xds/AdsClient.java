package io.trellis.gateway.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.trellis.gateway.config.GatewayConfig;
import io.trellis.gateway.config.XdsResources;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.proxy.DataPlane;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * State-of-the-world ADS client. Subscribes to Listeners and Clusters (wildcard), then to the
 * RouteConfigurations, ClusterLoadAssignments and Secrets they name. Every response is translated together
 * with everything else received; if the result applies, it is ACKed (version + nonce), otherwise NACKed
 * with the translator's field-path message and the last good configuration stays in effect. When the
 * stream breaks the data plane keeps serving and the client reconnects with backoff, re-announcing the
 * versions it holds.
 */
public final class AdsClient implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AdsClient.class);
  static final List<String> ORDER = List.of(XdsResources.CLUSTER, XdsResources.ENDPOINT, XdsResources.LISTENER,
      XdsResources.ROUTE, XdsResources.SECRET);

  private final ManagedChannel channel;
  private final Node node;
  private final String token;
  private final DataPlane dp;
  private final Consumer<String> nackListener;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ads-client");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, TypeState> state = new LinkedHashMap<>();
  private StreamObserver<DiscoveryRequest> requests;
  private long backoffMs = 500;
  private boolean closed;

  private static final class TypeState {
    String version = "";
    String nonce = "";
    TreeSet<String> names = new TreeSet<>();
    Map<String, Message> resources = new HashMap<>();
    String lastNackedVersion;
  }

  /**
   * @param nodeId {@code <mesh>.<name>} of the Dataplane this proxy serves
   * @param token dataplane token sent as {@code authorization: Bearer …}, or null
   */
  public AdsClient(ManagedChannel channel, String nodeId, String token, DataPlane dp, Consumer<String> nackListener) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.node = Node.newBuilder().setId(Objects.requireNonNull(nodeId, "nodeId")).setCluster(nodeId)
        .setUserAgentName("trellis-gateway-proxy").build();
    this.token = token;
    this.dp = Objects.requireNonNull(dp, "dp");
    this.nackListener = nackListener == null ? m -> { } : nackListener;
    ORDER.forEach(t -> state.put(t, new TypeState()));
  }

  public synchronized void start() {
    if (closed) {
      return;
    }
    var stub = AggregatedDiscoveryServiceGrpc.newStub(channel);
    if (token != null && !token.isBlank()) {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token.trim());
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    StreamObserver<DiscoveryResponse> observer = new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        onResponse(this, r);
      }

      @Override
      public void onError(Throwable t) {
        streamEnded(this, t.toString());
      }

      @Override
      public void onCompleted() {
        streamEnded(this, "completed by server");
      }
    };
    current = observer;
    requests = stub.streamAggregatedResources(observer);
    // Wildcard subscriptions first; dependent types follow from what they name.
    send(XdsResources.CLUSTER, null);
    send(XdsResources.LISTENER, null);
    for (String t : List.of(XdsResources.ENDPOINT, XdsResources.ROUTE, XdsResources.SECRET)) {
      if (!state.get(t).names.isEmpty()) {
        send(t, null);
      }
    }
  }

  private Object current;

  private synchronized void streamEnded(Object observer, String why) {
    if (closed || observer != current) {
      return;
    }
    LOG.warnf("ADS stream ended (%s); serving the last good configuration, reconnecting in %d ms", why, backoffMs);
    long delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, 30_000);
    for (TypeState s : state.values()) {
      s.nonce = "";
    }
    timer.schedule(this::start, delay, TimeUnit.MILLISECONDS);
  }

  private void send(String type, Status error) {
    TypeState s = state.get(type);
    DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type)
        .setVersionInfo(s.version).setResponseNonce(s.nonce).addAllResourceNames(s.names);
    if (error != null) {
      b.setErrorDetail(error);
    }
    requests.onNext(b.build());
  }

  private synchronized void onResponse(Object observer, DiscoveryResponse r) {
    if (closed || observer != current) {
      return;
    }
    backoffMs = 500;
    String type = r.getTypeUrl();
    TypeState s = state.get(type);
    if (s == null) {
      LOG.warnf("ignoring unknown xDS type %s", type);
      return;
    }
    s.nonce = r.getNonce();
    Map<String, Message> decoded = new HashMap<>();
    String error = null;
    try {
      for (Any any : r.getResourcesList()) {
        Message m = decode(type, any);
        decoded.put(name(m), m);
      }
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      error = type + ": undecodable resource (" + e.getMessage() + ")";
    }
    if (error == null) {
      Map<String, Message> previous = s.resources;
      s.resources = decoded;
      try {
        Map<String, String> versions = new LinkedHashMap<>();
        state.forEach((t, st) -> versions.put(t, t.equals(type) ? r.getVersionInfo() : st.version));
        GatewayConfig cfg = XdsTranslator.translate(resources(versions));
        dp.apply(cfg);
      } catch (RuntimeException e) {
        s.resources = previous;
        error = e.getMessage() == null ? e.toString() : e.getMessage();
      }
    }
    if (error != null) {
      LOG.warnf("NACK %s version %s: %s", type, r.getVersionInfo(), error);
      nackListener.accept(error);
      Status st = Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(error).build();
      boolean repeat = r.getVersionInfo().equals(s.lastNackedVersion);
      s.lastNackedVersion = r.getVersionInfo();
      if (repeat) {
        // A control plane that re-sends the version we just refused would spin; slow the loop down.
        timer.schedule(() -> {
          synchronized (AdsClient.this) {
            if (!closed && observer == current) {
              send(type, st);
            }
          }
        }, 2, TimeUnit.SECONDS);
      } else {
        send(type, st);
      }
      return;
    }
    s.version = r.getVersionInfo();
    s.lastNackedVersion = null;
    send(type, null);
    resubscribe();
  }

  /** Keeps RDS/EDS/SDS subscriptions in line with what listeners and clusters refer to. */
  private void resubscribe() {
    TreeSet<String> routes = new TreeSet<>();
    TreeSet<String> eds = new TreeSet<>();
    TreeSet<String> secrets = new TreeSet<>();
    for (Message m : state.get(XdsResources.LISTENER).resources.values()) {
      Listener l = (Listener) m;
      List<io.envoyproxy.envoy.config.listener.v3.FilterChain> chains = new java.util.ArrayList<>(l.getFilterChainsList());
      if (l.hasDefaultFilterChain()) {
        chains.add(l.getDefaultFilterChain());
      }
      for (var fc : chains) {
        for (var f : fc.getFiltersList()) {
          if (f.getTypedConfig().getTypeUrl().endsWith("HttpConnectionManager")) {
            try {
              HttpConnectionManager h = f.getTypedConfig().unpack(HttpConnectionManager.class);
              if (h.hasRds()) {
                routes.add(h.getRds().getRouteConfigName());
              }
            } catch (InvalidProtocolBufferException e) {
              // the translator has rejected it already
            }
          }
        }
        if (fc.hasTransportSocket()) {
          try {
            secretNames(fc.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class).getCommonTlsContext(), secrets);
          } catch (InvalidProtocolBufferException e) {
            // rejected by the translator
          }
        }
      }
    }
    for (Message m : state.get(XdsResources.CLUSTER).resources.values()) {
      Cluster c = (Cluster) m;
      if (c.getType() == Cluster.DiscoveryType.EDS) {
        eds.add(c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName());
      }
      if (c.hasTransportSocket()) {
        try {
          secretNames(c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class).getCommonTlsContext(), secrets);
        } catch (InvalidProtocolBufferException e) {
          // rejected by the translator
        }
      }
    }
    update(XdsResources.ENDPOINT, eds);
    update(XdsResources.ROUTE, routes);
    update(XdsResources.SECRET, secrets);
  }

  private static void secretNames(CommonTlsContext c, TreeSet<String> out) {
    c.getTlsCertificateSdsSecretConfigsList().forEach(s -> out.add(s.getName()));
    if (c.hasValidationContextSdsSecretConfig()) {
      out.add(c.getValidationContextSdsSecretConfig().getName());
    }
    if (c.hasCombinedValidationContext() && c.getCombinedValidationContext().hasValidationContextSdsSecretConfig()) {
      out.add(c.getCombinedValidationContext().getValidationContextSdsSecretConfig().getName());
    }
  }

  private void update(String type, TreeSet<String> names) {
    TypeState s = state.get(type);
    if (!s.names.equals(names)) {
      s.names = names;
      send(type, null);
    }
  }

  private XdsResources resources(Map<String, String> versions) {
    return new XdsResources(cast(XdsResources.LISTENER), cast(XdsResources.ROUTE), cast(XdsResources.CLUSTER),
        cast(XdsResources.ENDPOINT), cast(XdsResources.SECRET), versions);
  }

  @SuppressWarnings("unchecked")
  private <T> Map<String, T> cast(String type) {
    return (Map<String, T>) (Map<String, ?>) Map.copyOf(state.get(type).resources);
  }

  private static Message decode(String type, Any any) throws InvalidProtocolBufferException {
    if (!any.getTypeUrl().equals(type)) {
      throw new IllegalArgumentException("resource type " + any.getTypeUrl() + " in a " + type + " response");
    }
    return switch (type) {
      case XdsResources.LISTENER -> any.unpack(Listener.class);
      case XdsResources.ROUTE -> any.unpack(RouteConfiguration.class);
      case XdsResources.CLUSTER -> any.unpack(Cluster.class);
      case XdsResources.ENDPOINT -> any.unpack(ClusterLoadAssignment.class);
      case XdsResources.SECRET -> any.unpack(Secret.class);
      default -> throw new IllegalArgumentException(type);
    };
  }

  private static String name(Message m) {
    if (m instanceof Listener l) {
      return l.getName();
    }
    if (m instanceof RouteConfiguration r) {
      return r.getName();
    }
    if (m instanceof Cluster c) {
      return c.getName();
    }
    if (m instanceof ClusterLoadAssignment e) {
      return e.getClusterName();
    }
    return ((Secret) m).getName();
  }

  @Override
  public synchronized void close() {
    closed = true;
    timer.shutdownNow();
    if (requests != null) {
      try {
        requests.onCompleted();
      } catch (RuntimeException e) {
        // stream already gone
      }
    }
  }
}
