package io.trellis.xds.testing;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A minimal Envoy-like ADS client (SotW or delta) over a real gRPC channel. */
public final class AdsClient implements AutoCloseable {
  public final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  public final BlockingQueue<DeltaDiscoveryResponse> deltaResponses = new LinkedBlockingQueue<>();
  public final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final StreamObserver<DiscoveryRequest> sotw;
  private final StreamObserver<DeltaDiscoveryRequest> delta;
  public final Node node;

  private AdsClient(ManagedChannel channel, String nodeId, String bearer, String metadataToken, boolean isDelta) {
    Metadata headers = new Metadata();
    if (bearer != null) {
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + bearer);
    }
    Node.Builder n = Node.newBuilder().setId(nodeId).setUserAgentName("envoy");
    if (metadataToken != null) {
      n.setMetadata(Struct.newBuilder().putFields("dataplane.token", Value.newBuilder().setStringValue(metadataToken).build()));
    }
    node = n.build();
    var stub = AggregatedDiscoveryServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    if (isDelta) {
      sotw = null;
      delta = stub.deltaAggregatedResources(observer(deltaResponses));
    } else {
      delta = null;
      sotw = stub.streamAggregatedResources(observer(responses));
    }
  }

  private <T> StreamObserver<T> observer(BlockingQueue<T> queue) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        queue.add(value);
      }

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    };
  }

  public static AdsClient sotw(ManagedChannel channel, String nodeId, String bearer) {
    return new AdsClient(channel, nodeId, bearer, null, false);
  }

  public static AdsClient sotwWithMetadataToken(ManagedChannel channel, String nodeId, String token) {
    return new AdsClient(channel, nodeId, null, token, false);
  }

  public static AdsClient delta(ManagedChannel channel, String nodeId, String bearer) {
    return new AdsClient(channel, nodeId, bearer, null, true);
  }

  public void request(String typeUrl, String version, String nonce, String... names) {
    sotw.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).setVersionInfo(version)
        .setResponseNonce(nonce).addAllResourceNames(java.util.List.of(names)).build());
  }

  public void send(DiscoveryRequest request) {
    sotw.onNext(request);
  }

  public void subscribeDelta(String typeUrl, String... names) {
    delta.onNext(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl)
        .addAllResourceNamesSubscribe(java.util.List.of(names)).build());
  }

  public void sendDelta(DeltaDiscoveryRequest request) {
    delta.onNext(request);
  }

  public DiscoveryResponse next(long seconds) throws InterruptedException {
    return responses.poll(seconds, TimeUnit.SECONDS);
  }

  /** Waits for a response of {@code typeUrl}, skipping others. */
  public DiscoveryResponse next(String typeUrl, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      DiscoveryResponse r = responses.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (r != null && r.getTypeUrl().equals(typeUrl)) {
        return r;
      }
    }
    return null;
  }

  @Override
  public void close() {
    try {
      if (sotw != null) {
        sotw.onCompleted();
      } else {
        delta.onCompleted();
      }
    } catch (RuntimeException ignored) {
      // already closed by the server
    }
  }
}
