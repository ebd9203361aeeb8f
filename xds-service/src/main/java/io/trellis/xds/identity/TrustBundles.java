package io.trellis.xds.identity;

import io.trellis.api.ca.v1.CertificateAuthorityGrpc;
import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.ca.v1.TrustBundleRequest;
import io.trellis.xds.ResilientStream;
import io.trellis.xds.Scheduler;
import io.trellis.xds.Upstreams;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;

/** One {@code WatchTrustBundle} stream per mesh with connected mTLS proxies, fanned out to their sessions. */
@ApplicationScoped
public class TrustBundles {
  private final Upstreams upstreams;
  private final Scheduler scheduler;
  private final Map<String, MeshWatch> meshes = new ConcurrentHashMap<>();

  public TrustBundles(Upstreams upstreams, Scheduler scheduler) {
    this.upstreams = upstreams;
    this.scheduler = scheduler;
  }

  private final class MeshWatch {
    final Set<Consumer<String>> listeners = new CopyOnWriteArraySet<>();
    volatile String roots;
    ResilientStream<TrustBundle> stream;
  }

  /** Subscribes to the mesh's roots; the current value (if any) is delivered at once. */
  public synchronized Runnable subscribe(String mesh, Consumer<String> listener) {
    MeshWatch w = meshes.computeIfAbsent(mesh, m -> {
      MeshWatch nw = new MeshWatch();
      var stub = CertificateAuthorityGrpc.newStub(upstreams.ca()).withCallCredentials(upstreams.credentials());
      nw.stream = new ResilientStream<TrustBundle>("ca-service WatchTrustBundle(" + m + ")",
          o -> stub.watchTrustBundle(TrustBundleRequest.newBuilder().setMesh(m).build(), o),
          tb -> {
            nw.roots = tb.getRootsPem();
            nw.listeners.forEach(l -> l.accept(tb.getRootsPem()));
          }, scheduler.executor()).start();
      return nw;
    });
    w.listeners.add(listener);
    if (w.roots != null) {
      listener.accept(w.roots);
    }
    return () -> unsubscribe(mesh, listener);
  }

  private synchronized void unsubscribe(String mesh, Consumer<String> listener) {
    MeshWatch w = meshes.get(mesh);
    if (w != null && w.listeners.remove(listener) && w.listeners.isEmpty()) {
      w.stream.close();
      meshes.remove(mesh);
    }
  }
}
