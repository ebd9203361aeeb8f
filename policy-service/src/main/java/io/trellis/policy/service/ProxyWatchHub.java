package io.trellis.policy.service;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.policy.matching.PolicyPlugins;
import io.trellis.policy.matching.TargetRefs;
import io.trellis.policy.store.ChangeEvent;
import io.trellis.policy.view.ProxyViewBuilder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
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
 * only the watched proxies a change can affect are re-evaluated, and a view is sent only when its revision changed.
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
    String lastRevision;
    boolean deletedSent;

    Watch(String mesh, String name, Consumer<ProxyView> sink) {
      this.mesh = mesh;
      this.name = name;
      this.sink = sink;
    }
  }

  private final Map<String, List<Watch>> watches = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> pending = new ConcurrentHashMap<>();
  private final Set<String> allOfMesh = ConcurrentHashMap.newKeySet();
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
    Watch w = new Watch(mesh, name, sink);
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
    Set<String> affected = affected(event, mesh);
    if (affected == null) {
      allOfMesh.add(mesh);
    } else {
      pending.computeIfAbsent(mesh, m -> ConcurrentHashMap.newKeySet()).addAll(affected);
    }
    for (Consumer<ChangeEvent> l : resourceListeners) {
      scheduler.execute(() -> l.accept(event));
    }
    synchronized (this) {
      if (!scheduled) {
        scheduled = true;
        scheduler.schedule(this::flush, debounce.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  /** Names of watched proxies of {@code mesh} a change can affect; null for all of them. */
  private Set<String> affected(ChangeEvent event, String mesh) {
    Set<String> out = new HashSet<>();
    if (event.type() == ResourceType.DATAPLANE) {
      out.add(event.name());
      Set<String> services = new HashSet<>();
      services.addAll(services(event.before()));
      services.addAll(services(event.after()));
      for (Watch w : watchesOf(mesh)) {
        Resource dp = cache.dataplane(mesh, w.name);
        if (dp == null) {
          continue;
        }
        DataplaneSpec.Networking net = dp.spec(DataplaneSpec.class).networking();
        if (net != null && (net.transparentProxying() != null || reaches(net, services))) {
          out.add(w.name);
        }
      }
      return out;
    }
    if (PolicyPlugins.of(event.type()).isPresent()) {
      for (Watch w : watchesOf(mesh)) {
        Resource dp = cache.dataplane(mesh, w.name);
        if (dp == null) {
          continue;
        }
        TargetRefs.ProxyInfo proxy = new TargetRefs.ProxyInfo(dp.name(), dp.meta().labels(),
            dp.spec(DataplaneSpec.class), null, isGateway(dp));
        if (event.type() == ResourceType.MESH_HTTP_ROUTE || event.type() == ResourceType.MESH_TCP_ROUTE
            ? isGateway(dp) || selects(event.before(), proxy) || selects(event.after(), proxy)
            : selects(event.before(), proxy) || selects(event.after(), proxy)) {
          out.add(w.name);
        }
      }
      return out;
    }
    return null;
  }

  private static boolean isGateway(Resource dp) {
    DataplaneSpec.Networking net = dp.spec(DataplaneSpec.class).networking();
    return net != null && net.gateway() != null;
  }

  private static boolean selects(Resource policy, TargetRefs.ProxyInfo proxy) {
    if (policy == null) {
      return false;
    }
    var top = ((PolicySpec) policy.spec()).targetRef();
    // MeshGateway binding needs the snapshot; be conservative for gateway proxies.
    return (proxy.gateway() && top != null && top.kind() == io.trellis.api.model.TargetRef.Kind.MeshGateway)
        || TargetRefs.selectsProxy(top, proxy);
  }

  private static boolean reaches(DataplaneSpec.Networking net, Set<String> services) {
    if (net.outbound() == null) {
      return false;
    }
    for (DataplaneSpec.Outbound o : net.outbound()) {
      if (o.tags() != null && services.contains(o.tags().get(TargetRefs.SERVICE))) {
        return true;
      }
    }
    return false;
  }

  private static Set<String> services(Resource dp) {
    Set<String> out = new HashSet<>();
    if (dp == null) {
      return out;
    }
    DataplaneSpec.Networking net = dp.spec(DataplaneSpec.class).networking();
    if (net != null && net.inbound() != null) {
      for (DataplaneSpec.Inbound in : net.inbound()) {
        if (in.tags() != null && in.tags().get(TargetRefs.SERVICE) != null) {
          out.add(in.tags().get(TargetRefs.SERVICE));
        }
      }
    }
    return out;
  }

  private List<Watch> watchesOf(String mesh) {
    return watches.entrySet().stream().filter(e -> e.getKey().startsWith(mesh + "/"))
        .flatMap(e -> e.getValue().stream()).toList();
  }

  private void flush() {
    synchronized (this) {
      scheduled = false;
    }
    Set<String> meshesAll = new HashSet<>(allOfMesh);
    allOfMesh.removeAll(meshesAll);
    Map<String, Set<String>> names = new java.util.HashMap<>();
    for (String mesh : Set.copyOf(pending.keySet())) {
      names.put(mesh, pending.remove(mesh));
    }
    for (String mesh : meshesAll) {
      watchesOf(mesh).forEach(this::evaluateSafely);
    }
    for (Map.Entry<String, Set<String>> e : names.entrySet()) {
      if (meshesAll.contains(e.getKey()) || e.getValue() == null) {
        continue;
      }
      for (String name : e.getValue()) {
        watches.getOrDefault(e.getKey() + "/" + name, List.of()).forEach(this::evaluateSafely);
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
