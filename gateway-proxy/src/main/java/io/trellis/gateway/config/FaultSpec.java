package io.trellis.gateway.config;

import java.util.concurrent.ThreadLocalRandom;

/**
 * One {@code envoy.filters.http.fault} (MeshFaultInjection {@code http[]} entry): with probability
 * {@code abortPerMillion} the request is answered with {@code abortStatus} ({@code fault filter abort}, as Envoy);
 * with probability {@code delayPerMillion} it waits {@code delayNanos} before it goes upstream. Several faults
 * apply in order, like Envoy's filters in a chain: the first abort ends the request, delays add up.
 */
public record FaultSpec(int abortStatus, int abortPerMillion, long delayNanos, int delayPerMillion) {

  /** What the faults decide for one request. */
  public record Decision(int abortStatus, long delayNanos) {
    public static final Decision NONE = new Decision(0, 0);
  }

  public static Decision decide(java.util.List<FaultSpec> faults) {
    long delay = 0;
    for (FaultSpec f : faults) {
      // Envoy's fault filter applies the delay first, then the abort
      if (f.delayNanos > 0 && hit(f.delayPerMillion)) {
        delay += f.delayNanos;
      }
      if (f.abortStatus > 0 && hit(f.abortPerMillion)) {
        return new Decision(f.abortStatus, delay);
      }
    }
    return delay == 0 ? Decision.NONE : new Decision(0, delay);
  }

  static boolean hit(int perMillion) {
    return perMillion >= 1_000_000 || (perMillion > 0 && ThreadLocalRandom.current().nextInt(1_000_000) < perMillion);
  }
}
