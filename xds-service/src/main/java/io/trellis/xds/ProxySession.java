package io.trellis.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.identity.IdentityIssuer;
import io.trellis.xds.identity.TrustBundles;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.SecretTranslator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * One connected proxy: its view watch, its identity certificate and the snapshot built from both. A
 * snapshot is set only when everything it needs is present (a view, and with mTLS a signed identity and
 * the trust bundle), so a proxy never gets an empty or partial config; until then its watches simply wait.
 */
final class ProxySession {
  private static final Logger LOG = Logger.getLogger(ProxySession.class);

  private final ProxyRef ref;
  private final ProxyInput.ClientKind kind;
  private final SimpleCache<String> cache;
  private final IdentityIssuer issuer;
  private final TrustBundles trustBundles;
  private final ScheduledExecutorService scheduler;
  private final ResourceCodec codec;
  private final ProxySessions.Metrics metrics;
  private final ProxyViewWatcher watcher;
  private final SnapshotBuilder builder;
  private final java.util.function.BooleanSupplier stillOwner;

  private ProxyView view;
  private IdentityIssuer.Issued issued;
  private Map<String, List<String>> identityTags;
  private String roots;
  private Runnable trustSubscription;
  private ScheduledFuture<?> renewal;
  private boolean issuing;
  private long issueBackoffMs = 200;
  /** Set without the session's lock (see {@link #close()}), read under it: volatile. */
  private volatile boolean closed;

  ProxySession(ProxyRef ref, ProxyInput.ClientKind kind, SimpleCache<String> cache, Upstreams upstreams,
      IdentityIssuer issuer, TrustBundles trustBundles, ScheduledExecutorService scheduler, ResourceCodec codec,
      ProxySessions.Metrics metrics, java.util.function.BooleanSupplier stillOwner) {
    this.ref = ref;
    this.stillOwner = stillOwner;
    this.kind = kind;
    this.cache = cache;
    this.issuer = issuer;
    this.trustBundles = trustBundles;
    this.scheduler = scheduler;
    this.codec = codec;
    this.metrics = metrics;
    this.watcher = new ProxyViewWatcher(upstreams, ref, this::onView, scheduler);
    this.builder = new SnapshotBuilder(kind, codec);
  }

  void start() {
    watcher.start();
  }

  /** A view from policy-service, as its protobuf bytes. */
  synchronized void onView(byte[] bytes) {
    if (closed) {
      return;
    }
    ProxyView next;
    try {
      next = builder.decode(bytes);
    } catch (IllegalArgumentException e) {
      metrics.translationFailed();
      LOG.errorf("proxy %s: malformed view from policy-service, keeping the previous config: %s", ref, e.getMessage());
      return;
    }
    if (next.getDeleted()) {
      // Keep serving the last config: the Dataplane may be re-created, and an empty snapshot would
      // tear the proxy's listeners down while its pod is still draining.
      LOG.infof("proxy %s: Dataplane deleted, keeping its last config", ref);
      return;
    }
    if (view != null && view.getRevision().equals(next.getRevision()) && !next.getRevision().isEmpty()) {
      return;
    }
    view = next;
    if (next.getMtlsEnabled()) {
      if (trustSubscription == null) {
        trustSubscription = trustBundles.subscribe(ref.mesh(), this::onTrustBundle);
      }
      Map<String, List<String>> tags = identityTags(next);
      if (issued == null || !tags.equals(identityTags)) {
        identityTags = tags;
        issued = null;
        requestIdentity();
      }
    }
    rebuild();
  }

  private synchronized void onTrustBundle(String pem) {
    if (!pem.equals(roots)) {
      roots = pem;
      rebuild();
    }
  }

  private void requestIdentity() {
    if (issuing || closed) {
      return;
    }
    issuing = true;
    Map<String, List<String>> tags = identityTags;
    scheduler.execute(() -> {
      try {
        IdentityIssuer.Issued i = issuer.issue(ref.mesh(), tags);
        synchronized (this) {
          issuing = false;
          issueBackoffMs = 200;
          if (closed) {
            return;
          }
          if (!tags.equals(identityTags)) {
            requestIdentity();
            return;
          }
          issued = i;
          scheduleRenewal(i.renewAt());
          rebuild();
        }
      } catch (RuntimeException e) {
        long delay;
        synchronized (this) {
          issuing = false;
          delay = issueBackoffMs;
          issueBackoffMs = Math.min(30_000, issueBackoffMs * 2);
        }
        LOG.warnf("proxy %s: certificate signing failed (%s), retrying in %d ms", ref, e.getMessage(), delay);
        scheduler.schedule(() -> {
          synchronized (this) {
            requestIdentity();
          }
        }, delay, TimeUnit.MILLISECONDS);
      }
    });
  }

  private void scheduleRenewal(Instant at) {
    if (renewal != null) {
      renewal.cancel(false);
    }
    long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis());
    // The old certificate keeps being served until the new one is signed.
    renewal = scheduler.schedule(() -> {
      synchronized (this) {
        requestIdentity();
      }
    }, delay, TimeUnit.MILLISECONDS);
  }

  private void rebuild() {
    if (closed || view == null) {
      return;
    }
    SecretTranslator.Identity identity = null;
    if (view.getMtlsEnabled()) {
      if (issued == null) {
        return;
      }
      identity = issued.identity();
      if (roots != null) {
        identity = new SecretTranslator.Identity(identity.certChainPem(), identity.privateKeyPem(), roots);
      }
    }
    Snapshot snapshot;
    try {
      snapshot = builder.snapshot(view, identity);
    } catch (RuntimeException e) {
      metrics.translationFailed();
      LOG.errorf("proxy %s: view %d not translatable, keeping the previous config: %s", ref, view.getVersion(), e.getMessage());
      return;
    }
    cache.setSnapshot(ref.nodeId(), snapshot);
    metrics.snapshotSet();
  }


  /** Tags of every inbound, merged by key: the identity the certificate must carry. */
  static Map<String, List<String>> identityTags(ProxyView view) {
    Map<String, List<String>> tags = new TreeMap<>();
    for (InboundView i : view.getInboundsList()) {
      i.getTagsMap().forEach((k, v) -> {
        List<String> values = tags.computeIfAbsent(k, x -> new ArrayList<>());
        if (!values.contains(v)) {
          values.add(v);
        }
      });
    }
    if (view.hasGateway()) {
      try {
        var dp = codec().readUniversal(view.getDataplaneJson()).spec(io.trellis.api.model.DataplaneSpec.class);
        if (dp.networking() != null && dp.networking().gateway() != null && dp.networking().gateway().tags() != null) {
          dp.networking().gateway().tags().forEach((k, v) -> tags.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
      } catch (RuntimeException ignored) {
        // translation reports the malformed Dataplane
      }
    }
    tags.values().forEach(java.util.Collections::sort);
    return tags;
  }

  private static ResourceCodec codec() {
    return ProxySessions.CODEC;
  }

  /**
   * Ends the session. Called from the ADS stream's completion, where gRPC and java-control-plane hold the
   * stream's lock; a view being pushed holds this session's lock and then needs the stream's lock to send, so
   * taking this lock here would deadlock (seen in CI: half-close vs. a view arriving). Marking the session closed
   * needs no lock and stops any further snapshot from it at once; the rest runs on the scheduler.
   */
  void close() {
    closed = true;
    try {
      scheduler.execute(this::release);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      release(); // the service is stopping: nothing pushes any more
    }
  }

  private synchronized void release() {
    watcher.close();
    if (trustSubscription != null) {
      trustSubscription.run();
    }
    if (renewal != null) {
      renewal.cancel(false);
    }
    clearSnapshot(0);
  }

  /**
   * The cache refuses to drop a snapshot while the closing stream's watches are still registered; they go
   * a moment later, so retry briefly. A new session for the same node cancels this by owning the node.
   */
  private void clearSnapshot(int attempt) {
    if (!stillOwner.getAsBoolean()) {
      return;
    }
    if (!cache.clearSnapshot(ref.nodeId()) && attempt < 10) {
      scheduler.schedule(() -> clearSnapshot(attempt + 1), 500, TimeUnit.MILLISECONDS);
    }
  }
}
