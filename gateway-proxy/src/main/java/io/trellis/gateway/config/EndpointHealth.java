package io.trellis.gateway.config;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Passive health as Envoy's outlier detection does it, plus the results of active health checks.
 *
 * <p>Endpoints of clusters with an outlier_detection follow its {@link OutlierSpec}: the consecutive 5xx, gateway
 * failure and local-origin failure detectors inline; success-rate and failure-percentage detection on a sweep every
 * interval; ejections lasting base x (times ejected in a row), capped by max_ejection_time, the multiplier decaying
 * by one per sweep that finds the endpoint healthy; at most max_ejection_percent of the cluster ejected (the first
 * ejection always happens). Endpoints of other clusters get the data plane's own default ({@code maxFailures}
 * failures of any kind in a row eject for {@code ejectMillis}).
 *
 * <p>Kept outside the configuration so a config swap does not forget what was learnt; a cluster whose sweep
 * interval did not change keeps its sweep schedule across swaps (otherwise frequent pushes would postpone every
 * sweep). An endpoint listed by several clusters with outlier detection follows the one with the lowest
 * consecutive-5xx threshold (the state is per address, shared by those clusters).
 *
 * <p>A passed active health check ends an ejection (Envoy's successful_active_health_check_uneject_host, on by
 * default). Deviation from Envoy: an ejection ends when its time is up, not at the next sweep after that.
 */
public final class EndpointHealth implements AutoCloseable {
  private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(EndpointHealth.class);
  /** What the data plane reports about one attempt. */
  public enum LocalOrigin {
    /** The connection (incl. its TLS handshake) could not be made, or was reset before the response ended. */
    CONNECT_FAILED,
    /** No response within the route's timeout. */
    TIMEOUT
  }

  private final OutlierSpec defaults;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier clock;
  private final ConcurrentHashMap<InetSocketAddress, State> states = new ConcurrentHashMap<>();
  private final Map<String, Sweep> sweeps = new HashMap<>();
  private boolean closed;

  /** The endpoints of one cluster that follow its outlier detection. */
  record ClusterOutlier(String cluster, OutlierSpec spec, List<InetSocketAddress> endpoints) {}

  private static final class Sweep {
    volatile ClusterOutlier co;
    ScheduledFuture<?> future;
  }

  private static final class State {
    volatile ClusterOutlier co;
    final AtomicInteger consecutive5xx = new AtomicInteger();
    final AtomicInteger consecutiveGateway = new AtomicInteger();
    final AtomicInteger consecutiveLocal = new AtomicInteger();
    final AtomicInteger active = new AtomicInteger();
    /** Requests and failures since the last sweep: answers of the upstream (all results unless split) ... */
    final LongAdder external = new LongAdder();
    final LongAdder externalFailed = new LongAdder();
    /** ... and, when split, connection attempts. */
    final LongAdder local = new LongAdder();
    final LongAdder localFailed = new LongAdder();
    volatile long ejectedUntil;
    /** Ejections in a row (the ejection time multiplier); guarded by the State. */
    int ejections;
    /** Failed its active health check (until enough successes in a row). */
    volatile boolean checkFailed;
    /** Consecutive active check results of the same kind: positive successes, negative failures. */
    int streak;
  }

  /** Without a scheduler: sweeps run only through {@link #sweep(String)} (tests). */
  public EndpointHealth(int maxFailures, long ejectMillis) {
    this(maxFailures, ejectMillis, null, System::currentTimeMillis);
  }

  public EndpointHealth(int maxFailures, long ejectMillis, ScheduledExecutorService scheduler, LongSupplier clock) {
    this.defaults = OutlierSpec.consecutive5xx(maxFailures, ejectMillis, 100);
    this.scheduler = scheduler;
    this.clock = clock;
  }

  /** Takes the outlier detection settings of a new configuration's clusters. */
  public synchronized void configure(Collection<UpstreamCluster> clusters) {
    Map<InetSocketAddress, ClusterOutlier> owner = new HashMap<>();
    List<UpstreamCluster> sorted = new ArrayList<>();
    for (UpstreamCluster c : clusters) {
      if (c.outlier() != null) {
        sorted.add(c);
      }
    }
    sorted.sort(java.util.Comparator.comparing(UpstreamCluster::name));
    Map<String, OutlierSpec> specs = new HashMap<>();
    for (UpstreamCluster c : sorted) {
      ClusterOutlier co = new ClusterOutlier(c.name(), c.outlier(), c.endpoints());
      specs.put(c.name(), c.outlier());
      for (InetSocketAddress e : c.endpoints()) {
        owner.merge(e, co, (a, b) -> strictness(a) <= strictness(b) ? a : b);
      }
    }
    Map<String, List<InetSocketAddress>> owned = new HashMap<>();
    for (var e : owner.entrySet()) {
      owned.computeIfAbsent(e.getValue().cluster(), k -> new ArrayList<>()).add(e.getKey());
    }
    Map<String, ClusterOutlier> finals = new HashMap<>();
    for (var e : owned.entrySet()) {
      finals.put(e.getKey(), new ClusterOutlier(e.getKey(), specs.get(e.getKey()), List.copyOf(e.getValue())));
    }
    Set<InetSocketAddress> seen = new HashSet<>();
    for (ClusterOutlier co : finals.values()) {
      for (InetSocketAddress e : co.endpoints()) {
        state(e).co = co;
        seen.add(e);
      }
    }
    states.forEach((a, s) -> {
      if (!seen.contains(a)) {
        s.co = null;
      }
    });
    reschedule(finals);
  }

  private void reschedule(Map<String, ClusterOutlier> finals) {
    for (var it = sweeps.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      ClusterOutlier next = finals.get(e.getKey());
      if (next == null || !next.spec().needsSweep()
          || next.spec().intervalMillis() != e.getValue().co.spec().intervalMillis()) {
        if (e.getValue().future != null) {
          e.getValue().future.cancel(false);
        }
        it.remove();
      } else {
        e.getValue().co = next;
      }
    }
    for (ClusterOutlier co : finals.values()) {
      if (!co.spec().needsSweep() || sweeps.containsKey(co.cluster())) {
        continue;
      }
      Sweep s = new Sweep();
      s.co = co;
      if (scheduler != null && !closed) {
        long every = Math.max(1, co.spec().intervalMillis());
        s.future = scheduler.scheduleAtFixedRate(() -> {
          try {
            sweep(s.co);
          } catch (RuntimeException e) {
            LOG.warnf(e, "outlier detection sweep of cluster %s failed", s.co.cluster());
          }
        }, every, every, TimeUnit.MILLISECONDS);
      }
      sweeps.put(co.cluster(), s);
    }
  }

  private static int strictness(ClusterOutlier co) {
    OutlierSpec.Consecutive c = co.spec().consecutive5xx();
    return c.on() ? c.threshold() : Integer.MAX_VALUE;
  }

  private State state(InetSocketAddress a) {
    return states.computeIfAbsent(a, k -> new State());
  }

  public boolean ejected(InetSocketAddress a) {
    State s = states.get(a);
    return s != null && ejected(s, clock.getAsLong());
  }

  private static boolean ejected(State s, long now) {
    if (s.checkFailed) {
      return true;
    }
    long until = s.ejectedUntil;
    return until != 0 && until > now;
  }

  // ---- results reported by the data plane

  /** The endpoint answered with an HTTP status (its own answer, not one the gateway made up). */
  public void response(InetSocketAddress a, int status) {
    State s = status >= 500 ? state(a) : states.get(a);
    if (s != null) {
      external(s, a, status);
    }
  }

  /** A local-origin failure: unless split, counted as Envoy's router would answer (503, or 504 for a timeout). */
  public void localFailure(InetSocketAddress a, LocalOrigin what) {
    State s = state(a);
    ClusterOutlier co = s.co;
    if (co != null && co.spec().split()) {
      s.local.increment();
      s.localFailed.increment();
      if (s.consecutiveLocal.incrementAndGet() >= co.spec().consecutiveLocalOriginFailure().threshold()
          && co.spec().consecutiveLocalOriginFailure().on()) {
        s.consecutiveLocal.set(0);
        detected(s, a, co, co.spec().consecutiveLocalOriginFailure().enforcing());
      }
    } else {
      external(s, a, what == LocalOrigin.TIMEOUT ? 504 : 503);
    }
  }

  /**
   * A connection was made. {@code last}: nothing else will be reported for this attempt (a TCP proxy's
   * connection), so unless split it counts as a success; for HTTP only the response counts then.
   */
  public void connected(InetSocketAddress a, boolean last) {
    State s = states.get(a);
    if (s == null) {
      return;
    }
    ClusterOutlier co = s.co;
    if (co != null && co.spec().split()) {
      s.local.increment();
      reset(s.consecutiveLocal);
    } else if (last) {
      external(s, a, 200);
    }
  }

  private void external(State s, InetSocketAddress a, int status) {
    ClusterOutlier co = s.co;
    OutlierSpec spec = co == null ? defaults : co.spec();
    if (co != null && spec.needsSweep()) {
      s.external.increment();
      if (status >= 500) {
        s.externalFailed.increment();
      }
    }
    if (status < 500) {
      reset(s.consecutive5xx);
      reset(s.consecutiveGateway);
      return;
    }
    if (status == 502 || status == 503 || status == 504) {
      if (s.consecutiveGateway.incrementAndGet() >= spec.consecutiveGatewayFailure().threshold()
          && spec.consecutiveGatewayFailure().on()) {
        s.consecutiveGateway.set(0);
        detected(s, a, co, spec.consecutiveGatewayFailure().enforcing());
      }
    } else {
      reset(s.consecutiveGateway);
    }
    if (s.consecutive5xx.incrementAndGet() >= spec.consecutive5xx().threshold() && spec.consecutive5xx().on()) {
      s.consecutive5xx.set(0);
      detected(s, a, co, spec.consecutive5xx().enforcing());
    }
  }

  /** A write only when needed: the success path of every response must not bounce a shared cache line. */
  private static void reset(AtomicInteger counter) {
    if (counter.get() != 0) {
      counter.set(0);
    }
  }

  /** An outlier was detected; it is ejected with the detector's enforcing chance, as far as the cluster allows. */
  private void detected(State s, InetSocketAddress a, ClusterOutlier co, int enforcing) {
    if (enforcing < 100 && ThreadLocalRandom.current().nextInt(100) >= enforcing) {
      return;
    }
    long now = clock.getAsLong();
    OutlierSpec spec = co == null ? defaults : co.spec();
    synchronized (this) {
      if (ejected(s, now) || (co != null && !mayEject(co, now))) {
        return;
      }
      synchronized (s) {
        s.ejections++;
        long jitter = spec.maxEjectionJitterMillis() > 0
            ? ThreadLocalRandom.current().nextLong(spec.maxEjectionJitterMillis() + 1) : 0;
        s.ejectedUntil = now + spec.ejectionMillis(s.ejections) + jitter;
      }
      s.consecutive5xx.set(0);
      s.consecutiveGateway.set(0);
      s.consecutiveLocal.set(0);
    }
  }

  private boolean mayEject(ClusterOutlier co, long now) {
    int ejected = 0;
    for (InetSocketAddress e : co.endpoints()) {
      State s = states.get(e);
      if (s != null && ejected(s, now)) {
        ejected++;
      }
    }
    // the first ejection always happens; later ones while the share ejected is below max_ejection_percent
    return ejected == 0 || ejected * 100L < (long) co.spec().maxEjectionPercent() * co.endpoints().size();
  }

  // ---- the sweep every interval

  /** Runs the sweep of one cluster now (tests; the scheduler runs it every interval). */
  public void sweep(String cluster) {
    Sweep s;
    synchronized (this) {
      s = sweeps.get(cluster);
    }
    if (s == null) {
      throw new IllegalArgumentException("cluster " + cluster + ": no outlier detection sweep");
    }
    sweep(s.co);
  }

  private record Volume(InetSocketAddress address, State state, long total, long failed) {
    double successRate() {
      return 100.0 * (total - failed) / total;
    }
  }

  private void sweep(ClusterOutlier co) {
    OutlierSpec spec = co.spec();
    List<Volume> external = new ArrayList<>();
    List<Volume> local = new ArrayList<>();
    for (InetSocketAddress a : co.endpoints()) {
      State s = states.get(a);
      if (s == null || s.co == null || !s.co.cluster().equals(co.cluster())) {
        continue;
      }
      external.add(new Volume(a, s, s.external.sumThenReset(), s.externalFailed.sumThenReset()));
      local.add(new Volume(a, s, s.local.sumThenReset(), s.localFailed.sumThenReset()));
    }
    long now = clock.getAsLong();
    // an endpoint found healthy sheds one step of its ejection multiplier
    for (Volume v : external) {
      synchronized (v.state()) {
        if (v.state().ejections > 0 && !ejected(v.state(), now)) {
          v.state().ejections--;
        }
      }
    }
    OutlierSpec.SuccessRate sr = spec.successRate();
    OutlierSpec.FailurePercentage fp = spec.failurePercentage();
    successRate(co, external, sr.enforcing());
    failurePercentage(co, external, fp.enforcing());
    if (spec.split()) {
      successRate(co, local, sr.enforcingLocalOrigin());
      failurePercentage(co, local, fp.enforcingLocalOrigin());
    }
  }

  /**
   * The endpoints a sweep detector looks at: those with {@code requestVolume} requests in the interval, none when
   * the detector is off or fewer than {@code minimumHosts} have that volume.
   */
  private static List<Volume> withVolume(List<Volume> all, int enforcing, int requestVolume, int minimumHosts) {
    if (enforcing <= 0) {
      return List.of();
    }
    List<Volume> enough = all.stream().filter(v -> v.total() > 0 && v.total() >= requestVolume).toList();
    return enough.size() < Math.max(1, minimumHosts) ? List.of() : enough;
  }

  private void successRate(ClusterOutlier co, List<Volume> all, int enforcing) {
    OutlierSpec.SuccessRate sr = co.spec().successRate();
    List<Volume> enough = withVolume(all, enforcing, sr.requestVolume(), sr.minimumHosts());
    if (enough.isEmpty()) {
      return;
    }
    double mean = enough.stream().mapToDouble(Volume::successRate).average().orElse(100);
    double variance = enough.stream().mapToDouble(v -> (v.successRate() - mean) * (v.successRate() - mean)).sum()
        / enough.size();
    double threshold = mean - sr.stdevFactor() / 1000.0 * Math.sqrt(variance);
    for (Volume v : enough) {
      if (v.successRate() < threshold) {
        detected(v.state(), v.address(), co, enforcing);
      }
    }
  }

  private void failurePercentage(ClusterOutlier co, List<Volume> all, int enforcing) {
    OutlierSpec.FailurePercentage fp = co.spec().failurePercentage();
    List<Volume> enough = withVolume(all, enforcing, fp.requestVolume(), fp.minimumHosts());
    for (Volume v : enough) {
      if (100.0 - v.successRate() >= fp.threshold()) {
        detected(v.state(), v.address(), co, enforcing);
      }
    }
  }

  // ---- active health checks

  /**
   * One active health check result: {@code unhealthyThreshold} failures in a row take the endpoint out of load
   * balancing, {@code healthyThreshold} successes in a row bring it back. An endpoint never checked counts as
   * healthy (the first probe runs as soon as the cluster is configured).
   */
  public void checked(InetSocketAddress a, boolean ok, int unhealthyThreshold, int healthyThreshold) {
    State s = state(a);
    synchronized (s) {
      s.streak = ok ? Math.max(s.streak, 0) + 1 : Math.min(s.streak, 0) - 1;
      ClusterOutlier co = s.co;
      if (ok && (co == null || co.spec().activeCheckUnejects())) {
        s.ejectedUntil = 0;
      }
      if (ok && s.checkFailed && s.streak >= healthyThreshold) {
        s.checkFailed = false;
      } else if (!ok && !s.checkFailed && -s.streak >= unhealthyThreshold) {
        s.checkFailed = true;
      }
    }
  }

  /** Forgets the active check state of an endpoint no longer checked. */
  public void uncheck(InetSocketAddress a) {
    State s = states.get(a);
    if (s != null) {
      synchronized (s) {
        s.checkFailed = false;
        s.streak = 0;
      }
    }
  }

  // ---- requests in flight (least request)

  public int active(InetSocketAddress a) {
    State s = states.get(a);
    return s == null ? 0 : s.active.get();
  }

  public void started(InetSocketAddress a) {
    state(a).active.incrementAndGet();
  }

  public void finished(InetSocketAddress a) {
    state(a).active.decrementAndGet();
  }

  @Override
  public synchronized void close() {
    closed = true;
    sweeps.values().forEach(s -> {
      if (s.future != null) {
        s.future.cancel(false);
      }
    });
    sweeps.clear();
  }
}
