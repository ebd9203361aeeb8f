package io.trellis.gateway.config;

/**
 * A cluster's outlier detection (Envoy's {@code config.cluster.v3.OutlierDetection}) with Envoy's defaults filled
 * in for what the cluster leaves unset. Every {@code enforcing} value is the percent chance that a detected outlier
 * is really ejected (0 turns the detector off).
 *
 * @param consecutive5xx 5xx responses in a row (and, unless split, local-origin failures mapped to 503/504)
 * @param consecutiveGatewayFailure 502/503/504 responses in a row (same mapping of local-origin failures)
 * @param consecutiveLocalOriginFailure connect failures, resets and timeouts in a row; only with {@code split}
 * @param split {@code split_external_local_origin_errors}: local-origin failures are counted apart from the
 *     upstream's answers instead of being mapped to 5xx codes
 * @param intervalMillis the sweep interval: success-rate and failure-percentage detection, and the decay of the
 *     ejection multiplier of endpoints found healthy
 * @param baseEjectionMillis an ejection lasts this times the number of times the endpoint was ejected ...
 * @param maxEjectionMillis ... but never longer than this (or the base, if larger)
 * @param maxEjectionJitterMillis a random 0..this added to each ejection
 * @param maxEjectionPercent the share of the cluster's endpoints ejected at once (the first ejection always happens)
 * @param activeCheckUnejects {@code successful_active_health_check_uneject_host}: a passed active health check
 *     ends an ejection
 */
public record OutlierSpec(
    Consecutive consecutive5xx,
    Consecutive consecutiveGatewayFailure,
    Consecutive consecutiveLocalOriginFailure,
    boolean split,
    long intervalMillis,
    long baseEjectionMillis,
    long maxEjectionMillis,
    long maxEjectionJitterMillis,
    int maxEjectionPercent,
    SuccessRate successRate,
    FailurePercentage failurePercentage,
    boolean activeCheckUnejects) {

  /** A consecutive-failures detector: {@code threshold} failures in a row. */
  public record Consecutive(int threshold, int enforcing) {
    public boolean on() {
      return enforcing > 0 && threshold > 0;
    }
  }

  /**
   * Success-rate detection per sweep: among endpoints with at least {@code requestVolume} requests in the interval
   * (and only when there are {@code minimumHosts} of them), an endpoint whose success rate is below
   * mean - stdevFactor/1000 x standard deviation is an outlier.
   */
  public record SuccessRate(int enforcing, int enforcingLocalOrigin, int minimumHosts, int requestVolume, int stdevFactor) {}

  /**
   * Failure-percentage detection per sweep: among endpoints with at least {@code requestVolume} requests (and only
   * when there are {@code minimumHosts} of them), an endpoint whose failure percentage is at least
   * {@code threshold} is an outlier.
   */
  public record FailurePercentage(int enforcing, int enforcingLocalOrigin, int threshold, int minimumHosts, int requestVolume) {}

  /**
   * Only the consecutive-5xx detector (the data plane's own passive health for clusters without outlier
   * detection uses this with a fixed ejection time).
   */
  public static OutlierSpec consecutive5xx(int consecutive, long ejectMillis, int maxEjectionPercent) {
    return new OutlierSpec(new Consecutive(consecutive, 100), new Consecutive(5, 0), new Consecutive(5, 0), false,
        10_000, ejectMillis, ejectMillis, 0, maxEjectionPercent, new SuccessRate(0, 0, 5, 100, 1900),
        new FailurePercentage(0, 0, 85, 5, 50), true);
  }

  /** True when something must run every interval (sweep detectors, or the ejection multiplier's decay). */
  boolean needsSweep() {
    return successRate.enforcing() > 0 || failurePercentage.enforcing() > 0
        || (split && (successRate.enforcingLocalOrigin() > 0 || failurePercentage.enforcingLocalOrigin() > 0))
        || maxEjectionMillis > baseEjectionMillis;
  }

  /** How long the {@code n}-th ejection in a row lasts (without jitter). */
  long ejectionMillis(int n) {
    long cap = Math.max(maxEjectionMillis, baseEjectionMillis);
    return n <= 0 ? baseEjectionMillis : (baseEjectionMillis > cap / n ? cap : Math.min(cap, baseEjectionMillis * n));
  }
}
