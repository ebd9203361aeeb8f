package io.trellis.ca.testing;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.auth.ServiceTokens;
import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ResourceList;
import io.trellis.api.policy.v1.ResourcesRef;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A PolicyDiscovery server the tests control: it streams the Mesh and Secret lists it is given
 * (full list first, then the full list on each change), on a random port, and like the real one
 * refuses callers without the service token.
 */
public final class FakePolicyServer implements AutoCloseable {
  private final Map<String, List<String>> lists = new ConcurrentHashMap<>();
  private final Map<String, List<StreamObserver<ResourceList>>> streams = new ConcurrentHashMap<>();
  private final AtomicLong version = new AtomicLong();
  private final Server server;

  public FakePolicyServer(String serviceToken) throws IOException {
    lists.put("Mesh", List.of());
    lists.put("Secret", List.of());
    PolicyDiscoveryGrpc.PolicyDiscoveryImplBase impl = new PolicyDiscoveryGrpc.PolicyDiscoveryImplBase() {
      @Override
      public void watchResources(ResourcesRef request, StreamObserver<ResourceList> response) {
        if (!lists.containsKey(request.getType())) {
          response.onError(Status.INVALID_ARGUMENT.withDescription("type: " + request.getType()).asRuntimeException());
          return;
        }
        ServerCallStreamObserver<ResourceList> call = (ServerCallStreamObserver<ResourceList>) response;
        List<StreamObserver<ResourceList>> subs = streams.computeIfAbsent(request.getType(), t -> new CopyOnWriteArrayList<>());
        call.setOnCancelHandler(() -> subs.remove(call));
        synchronized (FakePolicyServer.this) {
          subs.add(call);
          call.onNext(list(request.getType()));
        }
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(impl,
            BearerAuth.interceptor(t -> ServiceTokens.matches(serviceToken, t) ? "local-service" : null)))
        .build().start();
  }

  public int port() {
    return server.getPort();
  }

  /** Replaces the list of {@code type} ("Mesh" or "Secret") with these universal JSON documents. */
  public synchronized void set(String type, List<String> jsons) {
    lists.put(type, List.copyOf(jsons));
    ResourceList list = list(type);
    for (StreamObserver<ResourceList> s : streams.getOrDefault(type, List.of())) {
      synchronized (s) {
        s.onNext(list);
      }
    }
  }

  private ResourceList list(String type) {
    return ResourceList.newBuilder().setType(type).setVersion(version.incrementAndGet())
        .addAllResourceJsons(lists.get(type)).build();
  }

  /** Ends every open stream with UNAVAILABLE, as a restarting policy-service would. */
  public void dropStreams() {
    streams.values().forEach(l -> {
      l.forEach(s -> s.onError(Status.UNAVAILABLE.asRuntimeException()));
      l.clear();
    });
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
