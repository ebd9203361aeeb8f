package io.trellis.xds;

import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ProxyView;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/** Watches one Dataplane's proxy view on policy-service ({@code WatchProxy}), re-subscribing after errors. */
public final class ProxyViewWatcher {
  private final ResilientStream<ProxyView> stream;

  public ProxyViewWatcher(Upstreams upstreams, ProxyRef ref, Consumer<ProxyView> onView, ScheduledExecutorService scheduler) {
    var stub = PolicyDiscoveryGrpc.newStub(upstreams.policy()).withCallCredentials(upstreams.credentials());
    var request = io.trellis.api.policy.v1.ProxyRef.newBuilder().setMesh(ref.mesh()).setName(ref.name()).build();
    this.stream = new ResilientStream<>("policy-service WatchProxy(" + ref + ")",
        observer -> stub.watchProxy(request, observer), onView, scheduler);
  }

  public ProxyViewWatcher start() {
    stream.start();
    return this;
  }

  public void close() {
    stream.close();
  }
}
