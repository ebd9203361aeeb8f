package io.trellis.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.translate.Memo;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.SecretTranslator;
import io.trellis.xds.translate.XdsResources;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Turns one proxy's successive views into snapshots, doing only the work a change needs. Per proxy it
 * keeps the parsed Dataplane/Mesh and the pieces of its last translation (reused when their inputs are
 * equal); across proxies, clusters, endpoints and routes of a service are built once and shared
 * (one interned instance, so heap per proxy stays small and the serializer cache hits by identity). One endpoint change of a service reached
 * by 10,000 proxies thus builds one new ClusterLoadAssignment, not 10,000 (bench/run.sh measures it).
 * Not thread-safe: one per proxy session, used under the session's lock.
 */
public final class SnapshotBuilder {
  private static final Cache<Memo.Key, Object> SHARED_PIECES = CacheBuilder.newBuilder().weakValues().build();
  private static final Interner<Message> SHARED = Interners.newWeakInterner();

  private final ProxyInput.ClientKind kind;
  private final ResourceCodec codec;
  private String dataplaneJson;
  private DataplaneSpec dataplane;
  private String meshJson;
  private MeshSpec mesh;
  private Map<Memo.Key, Object> previous = Map.of();

  public SnapshotBuilder(ProxyInput.ClientKind kind, ResourceCodec codec) {
    this.kind = kind;
    this.codec = codec;
  }

  /** The full resource set of {@code view}; throws if the view cannot be translated. */
  public XdsResources translate(ProxyView view, SecretTranslator.Identity identity) {
    if (!view.getDataplaneJson().equals(dataplaneJson)) {
      dataplane = codec.readUniversal(view.getDataplaneJson()).spec(DataplaneSpec.class);
      dataplaneJson = view.getDataplaneJson();
    }
    if (!view.getMeshJson().equals(meshJson)) {
      mesh = view.getMeshJson().isEmpty() ? null : codec.readUniversal(view.getMeshJson()).spec(MeshSpec.class);
      meshJson = view.getMeshJson();
    }
    Map<Memo.Key, Object> current = new HashMap<>();
    Map<Memo.Key, Object> before = previous;
    Memo memo = new Memo() {
      @Override
      @SuppressWarnings("unchecked")
      public <T> T get(Memo.Key key, Supplier<T> build) {
        Object v = current.get(key);
        if (v == null) {
          v = before.get(key);
          if (v == null) {
            // per-proxy pieces are not interned: they are unique to the proxy, and every weak interner
            // entry costs reference processing in each GC (the push benchmark showed GC dominating)
            v = key.shared() ? shared(key, build) : build.get();
          }
          current.put(key, v);
        }
        return (T) v;
      }
    };
    XdsResources r = ProxyTranslator.translate(new ProxyInput(view, dataplane, mesh, kind, memo), identity);
    previous = current;
    return r;
  }

  private static Object shared(Memo.Key key, Supplier<?> build) {
    try {
      return SHARED_PIECES.get(key, () -> intern(build.get()));
    } catch (ExecutionException | com.google.common.util.concurrent.UncheckedExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T intern(T value) {
    return value instanceof Message m ? (T) SHARED.intern(m) : value;
  }

  /** Per-type versions are content hashes, so an unchanged type is not resent when another changes. */
  static Snapshot snapshot(XdsResources r) {
    return Snapshot.create(
        r.clusters(), version(r.clusters()),
        r.endpoints(), version(r.endpoints()),
        r.listeners(), version(r.listeners()),
        r.routes(), version(r.routes()),
        r.secrets(), version(r.secrets()));
  }

  private static String version(List<?> resources) {
    return Integer.toHexString(resources.hashCode()) + "-" + resources.size();
  }
}
