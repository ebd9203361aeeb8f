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
import io.trellis.xds.auth.ProxyAuthenticators;
import java.util.ArrayList;
import java.util.concurrent.CompletionStage;
import io.trellis.xds.translate.ProxyInput;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The ADS endpoint (xDS v3, state of the world and delta) on the service's one port. Each stream is
 * authenticated on its first request, before java-control-plane sees it: the node id names the proxy,
 * a token (bearer header or node metadata {@code dataplane.token}) must prove it — a dataplane token, or
 * in Kubernetes mode the pod's ServiceAccount token ({@link ProxyAuthenticators}). Failures end the stream
 * with UNAUTHENTICATED / PERMISSION_DENIED and nothing is sent.
 */
@GrpcService
public class AdsServer implements BindableService {
  private static final Logger LOG = Logger.getLogger(AdsServer.class);
  static final String TOKEN_METADATA = "dataplane.token";

  private final ProxySessions sessions;
  private final ProxyAuthenticators auth;
  private final V3DiscoveryServer server;
  private final XdsCallbacks callbacks;
  private final Counter rejected;

  public AdsServer(ProxySessions sessions, ProxyAuthenticators auth, MeterRegistry registry) {
    this.sessions = sessions;
    this.auth = auth;
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
        // Guards the listener state; authentication may complete on another thread (TokenReview), and
        // messages that arrive meanwhile are held, in order, until it does. Nothing reaches
        // java-control-plane (so nothing is sent) before the proxy is authenticated.
        private final Object lock = new Object();
        private final List<Runnable> held = new ArrayList<>();
        private ProxyRef ref;
        private Node node;
        private Runnable release;
        private boolean authenticating;
        private boolean open;
        private boolean refused;
        private boolean ended;

        @Override
        public void onMessage(Q message) {
          synchronized (lock) {
            if (refused || ended) {
              return;
            }
            if (open) {
              deliver(message);
              return;
            }
            held.add(() -> deliver(message));
            if (!authenticating) {
              authenticating = true;
              authenticate(nodeOf(message));
            }
          }
        }

        private void authenticate(Node n) {
          ProxyRef candidate;
          try {
            candidate = ProxyRef.parse(n.getId());
          } catch (StatusRuntimeException e) {
            refuse(n, e.getStatus());
            return;
          }
          Value metaToken = n.getMetadata().getFieldsOrDefault(TOKEN_METADATA, null);
          String token = bearer != null ? bearer : metaToken == null ? null : metaToken.getStringValue();
          CompletionStage<Void> result;
          try {
            result = auth.get().authenticate(token, candidate);
          } catch (RuntimeException e) {
            result = java.util.concurrent.CompletableFuture.failedFuture(e);
          }
          result.whenComplete((ok, error) -> {
            synchronized (lock) {
              if (ended || refused) {
                return;
              }
              if (error != null) {
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
                Status status = cause instanceof StatusRuntimeException sre ? sre.getStatus()
                    : Status.UNAUTHENTICATED.withDescription("authentication failed");
                if (!(cause instanceof StatusRuntimeException)) {
                  LOG.warnf(cause, "authenticating proxy %s failed", candidate);
                }
                refuse(n, status);
                return;
              }
              ref = candidate;
              node = n;
              release = sessions.connect(ref, kindOf(n));
              open = true;
              LOG.debugf("proxy %s connected (%s)", ref, n.getUserAgentName());
              List<Runnable> pending = new ArrayList<>(held);
              held.clear();
              pending.forEach(Runnable::run);
            }
          });
        }

        private void refuse(Node n, Status status) {
          refused = true;
          held.clear();
          rejected.increment();
          LOG.infof("ADS stream refused (node %s): %s %s", n.getId(), status.getCode(), status.getDescription());
          call.close(status, new Metadata());
          releaseOnce();
        }

        /** A message of an authenticated stream, as java-control-plane should see it. */
        private void deliver(Q message) {
          if (refused) {
            return;
          }
          Node n = nodeOf(message);
          if (!n.getId().isEmpty() && !n.getId().equals(ref.nodeId())) {
            refuse(n, Status.PERMISSION_DENIED.withDescription("node.id: " + n.getId()
                + " (expected: " + ref.nodeId() + ", the node this stream authenticated as)"));
            return;
          }
          // Clients may send the node only on a stream's first request; the cache groups by node id.
          Q request = withNode(message, node);
          if (request instanceof DiscoveryRequest r && !r.getResponseNonce().isEmpty()) {
            String rejectedVersion = callbacks.rejectedVersion(ref.nodeId(), r);
            if (rejectedVersion != null && !rejectedVersion.equals(r.getVersionInfo())) {
              @SuppressWarnings("unchecked")
              Q rewritten = (Q) r.toBuilder().setVersionInfo(rejectedVersion).build();
              request = rewritten;
            }
          }
          super.onMessage(request);
        }

        @Override
        public void onHalfClose() {
          synchronized (lock) {
            if (refused || ended) {
              return;
            }
            if (!open) {
              held.add(super::onHalfClose);
              return;
            }
          }
          super.onHalfClose();
        }

        @Override
        public void onCancel() {
          synchronized (lock) {
            ended = true;
            held.clear();
            releaseOnce();
          }
          super.onCancel();
        }

        @Override
        public void onComplete() {
          synchronized (lock) {
            ended = true;
            releaseOnce();
          }
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
