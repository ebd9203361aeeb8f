package io.trellis.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.xds.identity.IdentityIssuer;
import io.trellis.xds.identity.TrustBundles;
import io.trellis.xds.translate.ProxyInput;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Connected proxies. Config is built only for proxies with at least one open ADS stream: the first
 * stream of a node opens its session (view watch, identity), the last one to close ends it.
 */
@ApplicationScoped
public class ProxySessions {
  static final ResourceCodec CODEC = new ResourceCodec();

  private final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
  private final Map<String, Entry> sessions = new HashMap<>();
  private final Upstreams upstreams;
  private final IdentityIssuer issuer;
  private final TrustBundles trustBundles;
  private final Scheduler scheduler;
  private final Metrics metrics;

  private static final class Entry {
    final ProxySession session;
    int streams;

    Entry(ProxySession session) {
      this.session = session;
    }
  }

  /** Counters of the translation pipeline. */
  public static final class Metrics {
    private final Counter snapshots;
    private final Counter failures;

    Metrics(MeterRegistry registry) {
      snapshots = Counter.builder("trellis.xds.snapshots").description("snapshots set for connected proxies").register(registry);
      failures = Counter.builder("trellis.xds.translation.failures").description("views that could not be translated").register(registry);
    }

    void snapshotSet() {
      snapshots.increment();
    }

    void translationFailed() {
      failures.increment();
    }
  }

  public ProxySessions(Upstreams upstreams, IdentityIssuer issuer, TrustBundles trustBundles, Scheduler scheduler,
      MeterRegistry registry) {
    this.upstreams = upstreams;
    this.issuer = issuer;
    this.trustBundles = trustBundles;
    this.scheduler = scheduler;
    this.metrics = new Metrics(registry);
    registry.gauge("trellis.xds.connected.proxies", this, s -> s.connected());
  }

  public SimpleCache<String> cache() {
    return cache;
  }

  private synchronized boolean isConnected(ProxyRef ref) {
    return sessions.containsKey(ref.nodeId());
  }

  public synchronized int connected() {
    return sessions.size();
  }

  /** Registers one ADS stream of {@code ref}; the returned handle releases it (idempotent). */
  public Runnable connect(ProxyRef ref, ProxyInput.ClientKind kind) {
    ProxySession toStart = null;
    synchronized (this) {
      Entry e = sessions.get(ref.nodeId());
      if (e == null) {
        e = new Entry(new ProxySession(ref, kind, cache, upstreams, issuer, trustBundles, scheduler.executor(), CODEC, metrics,
            () -> !isConnected(ref)));
        sessions.put(ref.nodeId(), e);
        toStart = e.session;
      }
      e.streams++;
    }
    if (toStart != null) {
      toStart.start();
    }
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        release(ref);
      }
    };
  }

  private void release(ProxyRef ref) {
    ProxySession toClose = null;
    synchronized (this) {
      Entry e = sessions.get(ref.nodeId());
      if (e != null && --e.streams == 0) {
        sessions.remove(ref.nodeId());
        toClose = e.session;
      }
    }
    if (toClose != null) {
      toClose.close();
    }
  }
}
