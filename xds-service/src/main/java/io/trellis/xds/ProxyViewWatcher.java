package io.trellis.xds;

import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ProxyRef;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * Watches one Dataplane's proxy view on policy-service ({@code WatchProxy}), re-subscribing after errors.
 * Views are handed over as their protobuf bytes (same RPC, same wire format): the session's
 * {@link SnapshotBuilder#decode} parses only what differs from the previous view.
 */
public final class ProxyViewWatcher {
  /** WatchProxy with the response kept as bytes. */
  static final MethodDescriptor<ProxyRef, byte[]> WATCH_PROXY_BYTES =
      PolicyDiscoveryGrpc.getWatchProxyMethod().toBuilder(PolicyDiscoveryGrpc.getWatchProxyMethod().getRequestMarshaller(),
          new MethodDescriptor.Marshaller<byte[]>() {
            @Override
            public InputStream stream(byte[] value) {
              return new ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
              try {
                return stream.readAllBytes();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            }
          }).build();

  private final ResilientStream<byte[]> stream;

  public ProxyViewWatcher(Upstreams upstreams, io.trellis.xds.ProxyRef ref, Consumer<byte[]> onView,
      ScheduledExecutorService scheduler) {
    CallOptions options = CallOptions.DEFAULT.withCallCredentials(upstreams.credentials());
    var request = ProxyRef.newBuilder().setMesh(ref.mesh()).setName(ref.name()).build();
    this.stream = new ResilientStream<>("policy-service WatchProxy(" + ref + ")",
        observer -> ClientCalls.asyncServerStreamingCall(upstreams.policy().newCall(WATCH_PROXY_BYTES, options), request, observer),
        onView, scheduler);
  }

  public ProxyViewWatcher start() {
    stream.start();
    return this;
  }

  public void close() {
    stream.close();
  }
}
