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
 * {@link MeshSnapshot} per mesh rebuilt lazily after a change to that mesh only.
 */
@ApplicationScoped
public class ResourceCache {
  @Inject ResourceStore store;
  @Inject ResourceCodec codec;

  private final Map<String, Map<String, Resource>> byMesh = new ConcurrentHashMap<>();
  private final Map<String, Resource> meshes = new ConcurrentHashMap<>();
  private final Map<String, MeshSnapshot> snapshots = new ConcurrentHashMap<>();
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
    return snapshots.computeIfAbsent(mesh, m -> MeshSnapshot.of(m, meshes.get(m),
        new ArrayList<>(byMesh.getOrDefault(m, Map.of()).values()), codec));
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
    if (event.after() != null) {
      put(event.after());
    } else if (event.type() == ResourceType.MESH) {
      meshes.remove(event.name());
      snapshots.remove(event.name());
    } else {
      Map<String, Resource> m = byMesh.get(event.mesh());
      if (m != null) {
        m.remove(key(event.type(), event.name()));
      }
      snapshots.remove(event.mesh());
    }
    for (Consumer<ChangeEvent> l : listeners) {
      l.accept(event);
    }
  }

  private synchronized void put(Resource r) {
    if (r.type() == ResourceType.MESH) {
      meshes.put(r.name(), r);
      snapshots.remove(r.name());
    } else {
      byMesh.computeIfAbsent(r.mesh(), m -> new ConcurrentHashMap<>()).put(key(r.type(), r.name()), r);
      snapshots.remove(r.mesh());
    }
  }

  private static String key(ResourceType type, String name) {
    return type.kumaName() + "/" + name;
  }
}
