package io.trellis.policy.service;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.trellis.api.model.ResourceType;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.policy.store.ChangeEvent;
import io.trellis.policy.view.MeshSnapshot;
import io.trellis.policy.view.ProxyViewBuilder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Serves proxy views to watchers: changes are collected for {@code trellis.watch.debounce} (default 50 ms), then
 * only the watched proxies a change can affect (found from the snapshot's indexes, {@link MeshSnapshot#affectedBy})
 * are re-evaluated on the incrementally updated snapshot, and a view is sent only when its revision changed.
 */
@ApplicationScoped
public class ProxyWatchHub {
  private static final Logger LOG = Logger.getLogger(ProxyWatchHub.class);

  @Inject ResourceCache cache;

  @ConfigProperty(name = "trellis.watch.debounce", defaultValue = "50ms")
  java.time.Duration debounce;

  /** Watcher of one proxy; {@code sink} is called from one thread at a time. */
  public static final class Watch {
    final String mesh;
    final String name;
    final Consumer<ProxyView> sink;
    /** Changes up to this sequence number were in the cache when the watch started: its first view has them. */
    final long since;
    String lastRevision;
    boolean deletedSent;

    Watch(String mesh, String name, Consumer<ProxyView> sink, long since) {
      this.mesh = mesh;
      this.name = name;
      this.sink = sink;
      this.since = since;
    }
  }

  private final Map<String, List<Watch>> watches = new ConcurrentHashMap<>();
  /** A change and its sequence number. */
  private record Pending(long seq, ChangeEvent event) {}

  /** Changes since the last flush, by mesh; guarded by {@code this}. */
  private final Map<String, List<Pending>> pending = new HashMap<>();
  /** Sequence number of the latest change, counted after the cache has applied it. */
  private final AtomicLong changes = new AtomicLong();
  private final Map<String, AtomicLong> versions = new ConcurrentHashMap<>();
  private final List<Consumer<ChangeEvent>> resourceListeners = new CopyOnWriteArrayList<>();
  private final AtomicLong evaluations = new AtomicLong();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "trellis-proxy-watch");
    t.setDaemon(true);
    return t;
  });
  private boolean scheduled;
  /** Versions start at the wall clock so a restarted server never sends a version a client has already seen. */
  private final long versionSeed = System.currentTimeMillis() * 1000;

  void onStart(@Observes StartupEvent event) {
    cache.addListener(this::onChange);
  }

  void onStop(@Observes ShutdownEvent event) {
    scheduler.shutdownNow();
  }

  /** Starts watching; the current view (if the Dataplane exists) is sent at once. Returns the handle to cancel. */
  public Runnable watch(String mesh, String name, Consumer<ProxyView> sink) {
    Watch w = new Watch(mesh, name, sink, changes.get());
    String key = mesh + "/" + name;
    watches.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(w);
    scheduler.execute(() -> evaluate(w));
    return () -> {
      List<Watch> list = watches.get(key);
      if (list != null) {
        list.remove(w);
      }
    };
  }

  /** Calls {@code listener} on the hub thread for every change (resource-list watchers). Returns the remover. */
  public Runnable onResourceChange(Consumer<ChangeEvent> listener) {
    resourceListeners.add(listener);
    return () -> resourceListeners.remove(listener);
  }

  /** How many proxy views were computed for watchers so far (tests check that only affected ones are). */
  public long evaluations() {
    return evaluations.get();
  }

  private void onChange(ChangeEvent event) {
    String mesh = event.type() == ResourceType.MESH ? event.name() : event.mesh();
    synchronized (this) {
      pending.computeIfAbsent(mesh, m -> new ArrayList<>()).add(new Pending(changes.incrementAndGet(), event));
      if (!scheduled) {
        scheduled = true;
        scheduler.schedule(this::flush, debounce.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    for (Consumer<ChangeEvent> l : resourceListeners) {
      scheduler.execute(() -> l.accept(event));
    }
  }

  private List<Watch> watchesOf(String mesh) {
    return watches.entrySet().stream().filter(e -> e.getKey().startsWith(mesh + "/"))
        .flatMap(e -> e.getValue().stream()).toList();
  }

  /**
   * Re-evaluates the watched proxies the batched changes can affect: the mesh's snapshot is brought up to date
   * incrementally, and its indexes say which proxies each change can reach (null: every proxy of the mesh).
   */
  private void flush() {
    Map<String, List<Pending>> batch;
    synchronized (this) {
      scheduled = false;
      batch = new HashMap<>(pending);
      pending.clear();
    }
    for (Map.Entry<String, List<Pending>> e : batch.entrySet()) {
      String mesh = e.getKey();
      List<Watch> watched = watchesOf(mesh);
      if (watched.isEmpty()) {
        continue;
      }
      List<Pending> changes = e.getValue();
      // per change: the proxies it can reach (null: every proxy of the mesh)
      List<Set<String>> reach = new ArrayList<>(changes.size());
      try {
        MeshSnapshot snap = cache.snapshot(mesh);
        for (Pending p : changes) {
          ChangeEvent event = p.event();
          reach.add(snap.affectedBy(event.type(), event.name(), event.before(), event.after()));
        }
      } catch (RuntimeException ex) {
        LOG.errorf(ex, "changes to mesh %s could not be routed; re-evaluating all its proxies", mesh);
        reach.clear();
        changes.forEach(p -> reach.add(null));
      }
      for (Watch w : watched) {
        // Only changes after the watch started count: its first view already had the earlier ones.
        boolean affected = false;
        for (int i = 0; i < changes.size() && !affected; i++) {
          Set<String> names = reach.get(i);
          affected = changes.get(i).seq() > w.since && (names == null || names.contains(w.name));
        }
        if (affected) {
          evaluateSafely(w);
        }
      }
    }
  }

  private void evaluateSafely(Watch w) {
    try {
      evaluate(w);
    } catch (RuntimeException e) {
      LOG.errorf(e, "proxy view of %s/%s could not be computed", w.mesh, w.name);
    }
  }

  private void evaluate(Watch w) {
    evaluations.incrementAndGet();
    var view = ProxyViewBuilder.build(cache.snapshot(w.mesh), w.name);
    if (view.isEmpty()) {
      if (w.lastRevision != null && !w.deletedSent) {
        w.deletedSent = true;
        w.lastRevision = null;
        w.sink.accept(ProxyView.newBuilder().setMesh(w.mesh).setName(w.name).setDeleted(true)
            .setVersion(nextVersion(w)).build());
      }
      return;
    }
    if (view.get().getRevision().equals(w.lastRevision)) {
      return;
    }
    w.lastRevision = view.get().getRevision();
    w.deletedSent = false;
    w.sink.accept(view.get().toBuilder().setVersion(nextVersion(w)).build());
  }

  private long nextVersion(Watch w) {
    return versions.computeIfAbsent(w.mesh + "/" + w.name, k -> new AtomicLong(versionSeed)).incrementAndGet();
  }
}
