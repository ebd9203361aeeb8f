package io.trellis.policy.service;

import io.quarkus.runtime.StartupEvent;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.policy.store.ChangeEvent;
import io.trellis.policy.store.ResourceStore;
import io.trellis.policy.view.MeshSnapshot;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * In-memory copy of the store that matching reads from, kept current by the store's change events, with one
 * {@link MeshSnapshot} per mesh. A change does not rebuild the snapshot: changes are queued per mesh and applied
 * incrementally ({@link MeshSnapshot#with}) when the snapshot is next asked for; a very long queue (e.g. a bulk
 * import) is cheaper to replace by one full rebuild.
 */
@ApplicationScoped
public class ResourceCache {
  @Inject ResourceStore store;
  @Inject ResourceCodec codec;

  private final Map<String, Map<String, Resource>> byMesh = new ConcurrentHashMap<>();
  private final Map<String, Resource> meshes = new ConcurrentHashMap<>();
  /** Above this many queued changes, a snapshot is rebuilt from scratch instead of updated change by change. */
  static final int MAX_INCREMENTAL_CHANGES = 256;

  private final Map<String, MeshSnapshot> snapshots = new ConcurrentHashMap<>();
  /** Changes committed since the mesh's snapshot was last brought up to date; guarded by {@code this}. */
  private final Map<String, List<ChangeEvent>> unapplied = new java.util.HashMap<>();
  private final List<Consumer<ChangeEvent>> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean loaded;

  void onStart(@Observes StartupEvent event) {
    load();
  }

  synchronized void load() {
    if (loaded) {
      return;
    }
    store.watch(this::apply);
    for (Resource r : store.listAll()) {
      put(r);
    }
    loaded = true;
  }

  /** Whether the initial load is done (readiness). */
  public boolean loaded() {
    return loaded;
  }

  public void addListener(Consumer<ChangeEvent> listener) {
    listeners.add(listener);
  }

  public synchronized MeshSnapshot snapshot(String mesh) {
    MeshSnapshot snap = snapshots.get(mesh);
    List<ChangeEvent> changes = unapplied.remove(mesh);
    if (snap != null && changes != null) {
      if (changes.size() > MAX_INCREMENTAL_CHANGES) {
        snap = null;
      } else {
        for (ChangeEvent e : changes) {
          snap = snap.with(e.type(), e.name(), e.after());
        }
      }
    }
    if (snap == null) {
      snap = MeshSnapshot.of(mesh, meshes.get(mesh), new ArrayList<>(byMesh.getOrDefault(mesh, Map.of()).values()),
          codec);
    }
    snapshots.put(mesh, snap);
    return snap;
  }

  /** A Dataplane from the cache without building a snapshot (cheap, for change routing). */
  public Resource dataplane(String mesh, String name) {
    return byMesh.getOrDefault(mesh, Map.of()).get(key(ResourceType.DATAPLANE, name));
  }

  public List<Resource> list(ResourceType type, String mesh) {
    List<Resource> out = new ArrayList<>();
    if (type == ResourceType.MESH) {
      out.addAll(meshes.values());
    } else {
      for (Map.Entry<String, Map<String, Resource>> e : byMesh.entrySet()) {
        if (mesh == null || mesh.isEmpty() || mesh.equals(e.getKey())) {
          e.getValue().values().stream().filter(r -> r.type() == type).forEach(out::add);
        }
      }
    }
    out.sort(java.util.Comparator.comparing((Resource r) -> r.mesh() == null ? "" : r.mesh())
        .thenComparing(Resource::name));
    return out;
  }

  private synchronized void apply(ChangeEvent event) {
    String mesh = event.type() == ResourceType.MESH ? event.name() : event.mesh();
    if (event.after() != null) {
      put(event.after());
    } else if (event.type() == ResourceType.MESH) {
      meshes.remove(event.name());
    } else {
      Map<String, Resource> m = byMesh.get(event.mesh());
      if (m != null) {
        m.remove(key(event.type(), event.name()));
      }
    }
    if (snapshots.containsKey(mesh)) {
      unapplied.computeIfAbsent(mesh, k -> new ArrayList<>()).add(event);
    }
    for (Consumer<ChangeEvent> l : listeners) {
      l.accept(event);
    }
  }

  private synchronized void put(Resource r) {
    if (r.type() == ResourceType.MESH) {
      meshes.put(r.name(), r);
    } else {
      byMesh.computeIfAbsent(r.mesh(), m -> new ConcurrentHashMap<>()).put(key(r.type(), r.name()), r);
    }
  }

  private static String key(ResourceType type, String name) {
    return type.kumaName() + "/" + name;
  }
}
