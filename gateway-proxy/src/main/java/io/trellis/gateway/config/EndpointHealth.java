package io.trellis.gateway.config;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Passive health (Envoy outlier detection, consecutive failures): an endpoint that fails
 * {@code maxFailures} times in a row (connect error, reset or 5xx) is ejected for {@code ejectMillis}.
 * Kept outside the configuration so a config swap does not forget what was learnt.
 */
public final class EndpointHealth {
  private final int maxFailures;
  private final long ejectMillis;
  private final ConcurrentHashMap<InetSocketAddress, State> states = new ConcurrentHashMap<>();

  private static final class State {
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger active = new AtomicInteger();
    volatile long ejectedUntil;
  }

  public EndpointHealth(int maxFailures, long ejectMillis) {
    this.maxFailures = maxFailures;
    this.ejectMillis = ejectMillis;
  }

  private State state(InetSocketAddress a) {
    return states.computeIfAbsent(a, k -> new State());
  }

  public boolean ejected(InetSocketAddress a) {
    State s = states.get(a);
    if (s == null) {
      return false;
    }
    long until = s.ejectedUntil;
    return until != 0 && until > System.currentTimeMillis();
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
    if (s.failures.incrementAndGet() >= maxFailures) {
      s.failures.set(0);
      s.ejectedUntil = System.currentTimeMillis() + ejectMillis;
    }
  }
}
