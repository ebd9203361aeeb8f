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
  private Pieces previous = new Pieces(); // pieces of the last full translation but EDS
  private Pieces previousEndpoints = new Pieces(); // EDS pieces of the last translation
  private Pieces previousFastRest = new Pieces(); // non-EDS pieces the last endpoint-only translation asked for
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
      // every other piece is unchanged: read from the last full translation's memo (kept as it is)
      Pieces currentEndpoints = new Pieces();
      Pieces fastRest = new Pieces();
      List<ClusterLoadAssignment> eds = EndpointTranslator.translate(new ProxyInput(view, dataplane, mesh, kind,
          memo(currentEndpoints, previousEndpoints, fastRest, previousFastRest, previous)));
      previousEndpoints = currentEndpoints;
      previousFastRest = fastRest;
      r = new XdsResources(translation.listeners(), translation.routes(), translation.clusters(), eds, translation.secrets());
    } else {
      Pieces current = new Pieces();
      Pieces currentEndpoints = new Pieces();
      r = ProxyTranslator.translate(new ProxyInput(view, dataplane, mesh, kind,
          memo(currentEndpoints, previousEndpoints, current, previous, previous)), identity);
      previous = current;
      previousEndpoints = currentEndpoints;
      previousFastRest = new Pieces();
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

  /**
   * Looks a piece up: first the piece the last translation asked for at the same point, if its key's inputs
   * are the very same objects (a view decoded against the previous one keeps the parsed parts that did not
   * change, so this is the common case and costs no hashing of lists and messages); then this translation's
   * pieces, then the last one's by key. EDS pieces in their own sets ({@code previousEndpoints} serves both
   * lookups); {@code positional}: the translation compared by position, {@code before}: the one looked up by key
   * (they differ after an endpoint-only translation, which asked for few non-EDS pieces).
   */
  private static Memo memo(Pieces currentEndpoints, Pieces previousEndpoints, Pieces current, Pieces positional,
      Pieces before) {
    return new Memo() {
      @Override
      @SuppressWarnings("unchecked")
      public <T> T get(Memo.Key key, Supplier<T> build) {
        boolean eds = key.kind().equals(EndpointTranslator.MEMO_KIND);
        Pieces now = eds ? currentEndpoints : current;
        Object v = (eds ? previousEndpoints : positional).at(now.size(), key);
        if (v == null && key.shared()) {
          // the one instance for these inputs (the last translation's piece for an equal key is that same
          // instance: it keeps the weakly held entry alive)
          v = shared(key, build);
        } else if (v == null) {
          v = now.get(key);
          if (v == null) {
            v = (eds ? previousEndpoints : before).get(key);
          }
          if (v == null) {
            // per-proxy pieces are not interned: they are unique to the proxy, and every weak interner
            // entry costs reference processing in each GC (the push benchmark showed GC dominating)
            v = build.get();
          }
        }
        now.add(key, v);
        return (T) v;
      }
    };
  }

  /**
   * The pieces one translation asked for, in order, with an index by key built on the first lookup by key
   * (a translation that finds everything by position never hashes a key).
   */
  static final class Pieces {
    private final List<Memo.Key> keys = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();
    private Map<Memo.Key, Object> index;

    int size() {
      return keys.size();
    }

    /** The piece asked for at {@code position} if its key has the same kind and the very same inputs, else null. */
    Object at(int position, Memo.Key key) {
      if (position >= keys.size()) {
        return null;
      }
      Memo.Key k = keys.get(position);
      Object[] a = k.parts();
      Object[] b = key.parts();
      if (k.shared() != key.shared() || !k.kind().equals(key.kind()) || a.length != b.length) {
        return null;
      }
      for (int i = 0; i < a.length; i++) {
        if (a[i] != b[i]) {
          return null;
        }
      }
      return values.get(position);
    }

    Object get(Memo.Key key) {
      if (index == null) {
        index = new HashMap<>();
        for (int i = 0; i < keys.size(); i++) {
          index.putIfAbsent(keys.get(i), values.get(i));
        }
      }
      return index.get(key);
    }

    void add(Memo.Key key, Object value) {
      keys.add(key);
      values.add(value);
      if (index != null) {
        index.putIfAbsent(key, value);
      }
    }
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
