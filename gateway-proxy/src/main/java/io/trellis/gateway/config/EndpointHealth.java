package io.trellis.gateway.config;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Passive health (Envoy outlier detection, consecutive failures): an endpoint that fails
 * {@code maxFailures} times in a row (connect error, reset or 5xx) is ejected for {@code ejectMillis}.
 * Kept outside the configuration so a config swap does not forget what was learnt. Endpoints of clusters with
 * their own outlier_detection use its thresholds ({@link #configure}); the others the defaults given here.
 */
public final class EndpointHealth {
  private final int maxFailures;
  private final long ejectMillis;
  private final ConcurrentHashMap<InetSocketAddress, State> states = new ConcurrentHashMap<>();
  /** Endpoint → the outlier detection of the cluster it belongs to (and that cluster's endpoints). */
  private volatile java.util.Map<InetSocketAddress, ClusterOutlier> outliers = java.util.Map.of();

  private record ClusterOutlier(UpstreamCluster.Outlier outlier, java.util.List<InetSocketAddress> endpoints) {}

  private static final class State {
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger active = new AtomicInteger();
    volatile long ejectedUntil;
    /** Failed its active health check (until enough successes in a row). */
    volatile boolean checkFailed;
    /** Consecutive active check results of the same kind: positive successes, negative failures. */
    int streak;
  }

  public EndpointHealth(int maxFailures, long ejectMillis) {
    this.maxFailures = maxFailures;
    this.ejectMillis = ejectMillis;
  }

  /**
   * Takes the outlier detection settings of a new configuration's clusters. An endpoint in several clusters
   * gets the strictest (lowest consecutive-failure count) of their settings.
   */
  public void configure(java.util.Collection<UpstreamCluster> clusters) {
    java.util.Map<InetSocketAddress, ClusterOutlier> next = new java.util.HashMap<>();
    for (UpstreamCluster c : clusters) {
      if (c.outlier() == null) {
        continue;
      }
      ClusterOutlier co = new ClusterOutlier(c.outlier(), c.endpoints());
      for (InetSocketAddress e : c.endpoints()) {
        next.merge(e, co, (a, b) -> effective(a.outlier().consecutive()) <= effective(b.outlier().consecutive()) ? a : b);
      }
    }
    outliers = java.util.Map.copyOf(next);
  }

  private static int effective(int consecutive) {
    return consecutive <= 0 ? Integer.MAX_VALUE : consecutive;
  }

  private State state(InetSocketAddress a) {
    return states.computeIfAbsent(a, k -> new State());
  }

  public boolean ejected(InetSocketAddress a) {
    State s = states.get(a);
    if (s == null) {
      return false;
    }
    if (s.checkFailed) {
      return true;
    }
    long until = s.ejectedUntil;
    return until != 0 && until > System.currentTimeMillis();
  }

  /**
   * One active health check result: {@code unhealthyThreshold} failures in a row take the endpoint out of load
   * balancing, {@code healthyThreshold} successes in a row bring it back. An endpoint never checked counts as
   * healthy (the first probe runs as soon as the cluster is configured).
   */
  public void checked(InetSocketAddress a, boolean ok, int unhealthyThreshold, int healthyThreshold) {
    State s = state(a);
    synchronized (s) {
      s.streak = ok ? Math.max(s.streak, 0) + 1 : Math.min(s.streak, 0) - 1;
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

  public void success(InetSocketAddress a) {
    State s = states.get(a);
    if (s != null) {
      s.failures.set(0);
    }
  }

  public void failure(InetSocketAddress a) {
    State s = state(a);
    ClusterOutlier co = outliers.get(a);
    int limit = co == null ? maxFailures : effective(co.outlier().consecutive());
    if (s.failures.incrementAndGet() >= limit) {
      s.failures.set(0);
      if (co != null && !mayEject(co)) {
        return; // max_ejection_percent reached: Envoy keeps the endpoint in rotation
      }
      s.ejectedUntil = System.currentTimeMillis() + (co == null ? ejectMillis : co.outlier().ejectMillis());
    }
  }

  private boolean mayEject(ClusterOutlier co) {
    int ejected = 0;
    for (InetSocketAddress e : co.endpoints()) {
      if (ejected(e)) {
        ejected++;
      }
    }
    // Envoy's ejection algorithm: the first ejection always happens; later ones while the share ejected is below
    // max_ejection_percent
    return ejected == 0 || ejected * 100L < (long) co.outlier().maxEjectionPercent() * co.endpoints().size();
  }
}
