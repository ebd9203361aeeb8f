package io.trellis.xds;

import com.google.protobuf.Value;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.grpc.GrpcService;
import io.trellis.api.auth.BearerAuth;
import io.trellis.xds.auth.VerificationKeysWatcher;
import io.trellis.xds.translate.ProxyInput;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The ADS endpoint (xDS v3, state of the world and delta) on the service's one port. Each stream is
 * authenticated on its first request, before java-control-plane sees it: the node id names the proxy,
 * a dataplane token (bearer header or node metadata {@code dataplane.token}) must prove it. Failures end
 * the stream with UNAUTHENTICATED / PERMISSION_DENIED and nothing is sent.
 */
@GrpcService
public class AdsServer implements BindableService {
  private static final Logger LOG = Logger.getLogger(AdsServer.class);
  static final String TOKEN_METADATA = "dataplane.token";

  private final ProxySessions sessions;
  private final VerificationKeysWatcher keys;
  private final V3DiscoveryServer server;
  private final XdsCallbacks callbacks;
  private final Counter rejected;

  public AdsServer(ProxySessions sessions, VerificationKeysWatcher keys, MeterRegistry registry) {
    this.sessions = sessions;
    this.keys = keys;
    this.callbacks = new XdsCallbacks(registry);
    // The cached serializer keeps one serialized Any per distinct resource, so a cluster shared by
    // many proxies is serialized once, not once per proxy.
    this.server = new V3DiscoveryServer(List.of(callbacks), sessions.cache(),
        new io.envoyproxy.controlplane.server.DefaultExecutorGroup(), new CachedProtoResourcesSerializer());
    this.rejected = Counter.builder("trellis.xds.streams.rejected").description("ADS streams refused by authentication")
        .register(registry);
  }

  @Override
  public ServerServiceDefinition bindService() {
    return ServerInterceptors.intercept(server.getAggregatedDiscoveryServiceImpl().bindService(), new Authenticator());
  }

  XdsCallbacks callbacks() {
    return callbacks;
  }

  static Node nodeOf(Object message) {
    if (message instanceof DiscoveryRequest r) {
      return r.getNode();
    }
    if (message instanceof DeltaDiscoveryRequest r) {
      return r.getNode();
    }
    return Node.getDefaultInstance();
  }

  @SuppressWarnings("unchecked")
  static <T> T withNode(T message, Node node) {
    if (message instanceof DiscoveryRequest r && !r.hasNode()) {
      return (T) r.toBuilder().setNode(node).build();
    }
    if (message instanceof DeltaDiscoveryRequest r && !r.hasNode()) {
      return (T) r.toBuilder().setNode(node).build();
    }
    return message;
  }

  static ProxyInput.ClientKind kindOf(Node node) {
    return node.getUserAgentName().startsWith("gRPC") ? ProxyInput.ClientKind.GRPC : ProxyInput.ClientKind.ENVOY;
  }

  private final class Authenticator implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String bearer = BearerAuth.bearerToken(headers);
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private ProxyRef ref;
        private Node node;
        private Runnable release;
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          Node n = nodeOf(message);
          try {
            if (ref == null) {
              ProxyRef candidate = ProxyRef.parse(n.getId());
              Value metaToken = n.getMetadata().getFieldsOrDefault(TOKEN_METADATA, null);
              String token = bearer != null ? bearer : metaToken == null ? null : metaToken.getStringValue();
              keys.verifier().verify(token, candidate);
              ref = candidate;
              node = n;
              release = sessions.connect(ref, kindOf(n));
              LOG.debugf("proxy %s connected (%s)", ref, n.getUserAgentName());
            } else if (!n.getId().isEmpty() && !n.getId().equals(ref.nodeId())) {
              throw Status.PERMISSION_DENIED.withDescription("node.id: " + n.getId()
                  + " (expected: " + ref.nodeId() + ", the node this stream authenticated as)").asRuntimeException();
            }
          } catch (StatusRuntimeException e) {
            refused = true;
            rejected.increment();
            LOG.infof("ADS stream refused (node %s): %s %s", n.getId(), e.getStatus().getCode(), e.getStatus().getDescription());
            call.close(e.getStatus(), new Metadata());
            releaseOnce();
            return;
          }
          // Clients may send the node only on a stream's first request; the cache groups by node id.
          Q request = withNode(message, node);
          if (request instanceof DiscoveryRequest r && !r.getResponseNonce().isEmpty()) {
            String rejected = callbacks.rejectedVersion(ref.nodeId(), r);
            if (rejected != null && !rejected.equals(r.getVersionInfo())) {
              @SuppressWarnings("unchecked")
              Q rewritten = (Q) r.toBuilder().setVersionInfo(rejected).build();
              request = rewritten;
            }
          }
          super.onMessage(request);
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }

        @Override
        public void onCancel() {
          releaseOnce();
          super.onCancel();
        }

        @Override
        public void onComplete() {
          releaseOnce();
          super.onComplete();
        }

        private void releaseOnce() {
          if (release != null) {
            release.run();
            release = null;
          }
        }
      };
    }
  }
}
