package io.trellis.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.translate.EndpointTranslator;
import io.trellis.xds.translate.Memo;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.SecretTranslator;
import io.trellis.xds.translate.XdsResources;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Turns one proxy's successive views into snapshots, doing only the work a change needs. Per proxy it
 * keeps the parsed Dataplane/Mesh and the pieces of its last translation (reused when their inputs are
 * equal); across proxies, clusters, endpoints and routes of a service are built once and shared
 * (one interned instance, so heap per proxy stays small and the serializer cache hits by identity).
 *
 * <p>Views arriving as bytes ({@link #decode}) are parsed only where they differ from the previous view; when
 * only endpoints of internal outbounds changed (the most frequent change), the proxy's listeners, routes,
 * clusters and secrets are kept as they are, with their versions and java-control-plane's resource maps, and
 * only its ClusterLoadAssignments are looked up again: the changed service's one is built once for all
 * proxies. Only endpoints of non-external outbounds may be read by nothing but {@link EndpointTranslator}
 * for this to hold (SnapshotBuilderTest compares it with full translations). One endpoint change of a
 * service reached by 10,000 proxies thus builds one new ClusterLoadAssignment and sends only EDS
 * (bench/run.sh measures it). Not thread-safe: one per proxy session, used under the session's lock.
 */
public final class SnapshotBuilder {
  private static final Cache<Memo.Key, Object> SHARED_PIECES = CacheBuilder.newBuilder().weakValues().build();
  private static final Interner<Message> SHARED = Interners.newWeakInterner();

  private final ProxyInput.ClientKind kind;
  private final ResourceCodec codec;
  private final ViewDecoder decoder = new ViewDecoder();
  private String dataplaneJson;
  private DataplaneSpec dataplane;
  private String meshJson;
  private MeshSpec mesh;
  private Map<Memo.Key, Object> previous = Map.of(); // pieces of the last full translation but EDS
  private Map<Memo.Key, Object> previousEndpoints = Map.of(); // EDS pieces of the last translation
  // the last decoded view, the one it was diffed against, and whether only endpoints differ between them
  private ProxyView decoded;
  private ProxyView decodedFrom;
  private boolean decodedEndpointsOnly;
  // the last translation and its inputs
  private ProxyView translated;
  private SecretTranslator.Identity translatedIdentity;
  private XdsResources translation;
  // the last snapshot's resources per type, reused while unchanged
  private Typed<io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters;
  private Typed<ClusterLoadAssignment> endpoints;
  private Typed<io.envoyproxy.envoy.config.listener.v3.Listener> listeners;
  private Typed<io.envoyproxy.envoy.config.route.v3.RouteConfiguration> routes;
  private Typed<io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret> secrets;

  public SnapshotBuilder(ProxyInput.ClientKind kind, ResourceCodec codec) {
    this.kind = kind;
    this.codec = codec;
  }

  /**
   * Decodes a view as received from policy-service (its protobuf bytes), reusing the parsed parts of the
   * previous view that are byte-for-byte unchanged; throws IllegalArgumentException on malformed bytes.
   */
  public ProxyView decode(byte[] bytes) {
    ViewDecoder.Decoded d = decoder.decode(bytes);
    decodedFrom = decoded;
    decoded = d.view();
    decodedEndpointsOnly = d.endpointsOnly();
    return decoded;
  }

  /** The snapshot of {@code view}, reusing the resource maps (and versions) of unchanged types; throws if the view cannot be translated. */
  public Snapshot snapshot(ProxyView view, SecretTranslator.Identity identity) {
    XdsResources r = translate(view, identity);
    clusters = Typed.of(r.clusters(), clusters);
    endpoints = Typed.of(r.endpoints(), endpoints);
    listeners = Typed.of(r.listeners(), listeners);
    routes = Typed.of(r.routes(), routes);
    secrets = Typed.of(r.secrets(), secrets);
    return new XdsSnapshot(clusters.resources(), endpoints.resources(), listeners.resources(), routes.resources(),
        secrets.resources());
  }

  /** The full resource set of {@code view}; throws if the view cannot be translated. */
  public XdsResources translate(ProxyView view, SecretTranslator.Identity identity) {
    boolean endpointsOnly = view == decoded && decodedEndpointsOnly && decodedFrom != null && decodedFrom == translated
        && Objects.equals(identity, translatedIdentity);
    if (!endpointsOnly) {
      parseResources(view);
    }
    XdsResources r;
    if (endpointsOnly) {
      // every other piece is unchanged: read from (and kept in) the last full translation's memo
      Map<Memo.Key, Object> currentEndpoints = new HashMap<>();
      List<ClusterLoadAssignment> eds = EndpointTranslator.translate(new ProxyInput(view, dataplane, mesh, kind,
          memo(currentEndpoints, previousEndpoints, previous, previous)));
      previousEndpoints = currentEndpoints;
      r = new XdsResources(translation.listeners(), translation.routes(), translation.clusters(), eds, translation.secrets());
    } else {
      Map<Memo.Key, Object> current = new HashMap<>();
      Map<Memo.Key, Object> currentEndpoints = new HashMap<>();
      r = ProxyTranslator.translate(new ProxyInput(view, dataplane, mesh, kind,
          memo(currentEndpoints, previousEndpoints, current, previous)), identity);
      previous = current;
      previousEndpoints = currentEndpoints;
    }
    translated = view;
    translatedIdentity = identity;
    translation = r;
    return r;
  }

  private void parseResources(ProxyView view) {
    if (!view.getDataplaneJson().equals(dataplaneJson)) {
      dataplane = codec.readUniversal(view.getDataplaneJson()).spec(DataplaneSpec.class);
      dataplaneJson = view.getDataplaneJson();
    }
    if (!view.getMeshJson().equals(meshJson)) {
      mesh = view.getMeshJson().isEmpty() ? null : codec.readUniversal(view.getMeshJson()).spec(MeshSpec.class);
      meshJson = view.getMeshJson();
    }
  }

  /** Looks pieces up in this translation's map, then in the last one's; EDS pieces in maps of their own. */
  private static Memo memo(Map<Memo.Key, Object> currentEndpoints, Map<Memo.Key, Object> beforeEndpoints,
      Map<Memo.Key, Object> current, Map<Memo.Key, Object> before) {
    return new Memo() {
      @Override
      @SuppressWarnings("unchecked")
      public <T> T get(Memo.Key key, Supplier<T> build) {
        boolean eds = key.kind().equals(EndpointTranslator.MEMO_KIND);
        Map<Memo.Key, Object> now = eds ? currentEndpoints : current;
        Object v = now.get(key);
        if (v == null) {
          v = (eds ? beforeEndpoints : before).get(key);
          if (v == null) {
            // per-proxy pieces are not interned: they are unique to the proxy, and every weak interner
            // entry costs reference processing in each GC (the push benchmark showed GC dominating)
            v = key.shared() ? shared(key, build) : build.get();
          }
          now.put(key, v);
        }
        return (T) v;
      }
    };
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

  /** A snapshot built from scratch (every resource map and resource version computed anew). */
  static Snapshot snapshot(XdsResources r) {
    return Snapshot.create(
        r.clusters(), version(r.clusters()),
        r.endpoints(), version(r.endpoints()),
        r.listeners(), version(r.listeners()),
        r.routes(), version(r.routes()),
        r.secrets(), version(r.secrets()));
  }

  /** Per-type versions are content hashes, so an unchanged type is not resent when another changes. */
  private static String version(List<?> resources) {
    return Integer.toHexString(resources.hashCode()) + "-" + resources.size();
  }

  /**
   * One type's resources and java-control-plane's map of them. Kept while the same instances come again;
   * otherwise rebuilt, keeping the per-resource versions (delta xDS) of resources that are the same instance.
   */
  private record Typed<T extends Message>(List<T> list, SnapshotResources<T> resources) {
    static <T extends Message> Typed<T> of(List<T> list, Typed<T> before) {
      if (before != null && sameInstances(list, before.list)) {
        return before;
      }
      Map<String, VersionedResource<T>> old = before == null ? Map.of() : before.resources.versionedResources();
      List<VersionedResource<T>> versioned = new ArrayList<>(list.size());
      for (T resource : list) {
        VersionedResource<T> o = old.get(Resources.getResourceName(resource));
        versioned.add(o != null && o.resource() == resource ? o : VersionedResource.create(resource));
      }
      String version = version(list);
      return new Typed<>(list, SnapshotResources.create(versioned, names -> version));
    }

    private static boolean sameInstances(List<?> a, List<?> b) {
      if (a.size() != b.size()) {
        return false;
      }
      for (int i = 0; i < a.size(); i++) {
        if (a.get(i) != b.get(i)) {
          return false;
        }
      }
      return true;
    }
  }
}
