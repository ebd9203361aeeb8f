package io.trellis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.gateway.config.EndpointHealth.LocalOrigin;
import io.trellis.gateway.config.OutlierSpec.Consecutive;
import io.trellis.gateway.config.OutlierSpec.FailurePercentage;
import io.trellis.gateway.config.OutlierSpec.SuccessRate;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Passive health as Envoy's outlier detection ejects (consecutive 5xx / gateway / local-origin failures, success
 * rate, failure percentage, max_ejection_percent, growing ejection times) and active health check results, on a
 * clock the test moves.
 */
class EndpointHealthTest {
  static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 80);
  static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 80);
  static final InetSocketAddress C = new InetSocketAddress("10.0.0.3", 80);
  static final InetSocketAddress D = new InetSocketAddress("10.0.0.4", 80);
  static final InetSocketAddress E = new InetSocketAddress("10.0.0.5", 80);

  final AtomicLong now = new AtomicLong(1_000_000);
  final EndpointHealth h = new EndpointHealth(5, 30_000, null, now::get);

  static UpstreamCluster cluster(OutlierSpec o, InetSocketAddress... eps) {
    return new UpstreamCluster("c", 1000, List.of(eps), null, null, false, o, 1024, null);
  }

  /** Envoy's defaults with every detector off, then the test's changes. */
  static OutlierSpec spec(Consecutive c5xx, Consecutive gateway, Consecutive local, boolean split, long base,
      long max, int maxPercent, SuccessRate sr, FailurePercentage fp) {
    return new OutlierSpec(c5xx, gateway, local, split, 10_000, base, max, 0, maxPercent, sr, fp, true);
  }

  static final Consecutive OFF = new Consecutive(5, 0);
  static final SuccessRate SR_OFF = new SuccessRate(0, 0, 5, 100, 1900);
  static final FailurePercentage FP_OFF = new FailurePercentage(0, 0, 85, 5, 50);

  void answer(InetSocketAddress a, int status, int times) {
    for (int i = 0; i < times; i++) {
      h.response(a, status);
    }
  }

  @Test
  void withoutOutlierDetectionTheDataPlaneDefaultsApplyToEveryKindOfFailure() {
    h.configure(List.of(cluster(null, A, B)));
    answer(A, 500, 2);
    h.localFailure(A, LocalOrigin.CONNECT_FAILED);
    h.localFailure(A, LocalOrigin.TIMEOUT);
    assertThat(h.ejected(A)).isFalse();
    answer(A, 503, 1);
    assertThat(h.ejected(A)).isTrue();
    now.addAndGet(30_000);
    assertThat(h.ejected(A)).as("back after 30 s").isFalse();
  }

  @Test
  void theClustersConsecutive5xxCountEjectsAndASuccessResetsIt() {
    h.configure(List.of(cluster(OutlierSpec.consecutive5xx(2, 30_000, 100), A, B)));
    h.response(A, 500);
    h.response(A, 200);
    h.response(A, 500);
    assertThat(h.ejected(A)).as("not two in a row").isFalse();
    h.response(A, 500);
    assertThat(h.ejected(A)).isTrue();
  }

  @Test
  void theFirstEjectionAlwaysHappensLaterOnesOnlyBelowMaxEjectionPercent() {
    h.configure(List.of(cluster(OutlierSpec.consecutive5xx(1, 30_000, 20), A, B, C, D)));
    h.response(A, 500);
    assertThat(h.ejected(A)).as("first ejection even above 20% of 4").isTrue();
    h.response(B, 500);
    assertThat(h.ejected(B)).as("25% already ejected, 20% allowed").isFalse();
  }

  @Test
  void aDisabledDetectorNeverEjects() {
    h.configure(List.of(cluster(spec(OFF, OFF, OFF, false, 30_000, 300_000, 100, SR_OFF, FP_OFF), A)));
    answer(A, 503, 50);
    h.localFailure(A, LocalOrigin.CONNECT_FAILED);
    assertThat(h.ejected(A)).isFalse();
  }

  @Test
  void gatewayFailuresAre502To504InARowAndAnother5xxBreaksTheRun() {
    h.configure(List.of(cluster(spec(OFF, new Consecutive(3, 100), OFF, false, 30_000, 300_000, 100, SR_OFF, FP_OFF), A)));
    answer(A, 502, 2);
    h.response(A, 500);
    answer(A, 504, 2);
    assertThat(h.ejected(A)).as("the 500 broke the run").isFalse();
    h.localFailure(A, LocalOrigin.TIMEOUT);
    assertThat(h.ejected(A)).as("a timeout counts as the 504 the router answers").isTrue();
  }

  @Test
  void localOriginFailuresCountAs5xxUnlessSplitThenOnlyForTheirOwnDetector() {
    h.configure(List.of(cluster(spec(new Consecutive(2, 100), OFF, OFF, false, 30_000, 300_000, 100, SR_OFF, FP_OFF), A)));
    h.localFailure(A, LocalOrigin.CONNECT_FAILED);
    h.localFailure(A, LocalOrigin.CONNECT_FAILED);
    assertThat(h.ejected(A)).as("not split: two 503s").isTrue();

    EndpointHealth split = new EndpointHealth(5, 30_000, null, now::get);
    split.configure(List.of(cluster(spec(new Consecutive(2, 100), OFF, new Consecutive(3, 100), true, 30_000, 300_000,
        100, SR_OFF, FP_OFF), B)));
    split.localFailure(B, LocalOrigin.CONNECT_FAILED);
    split.localFailure(B, LocalOrigin.CONNECT_FAILED);
    assertThat(split.ejected(B)).as("split: connect failures are not 5xx").isFalse();
    split.connected(B, false);
    split.localFailure(B, LocalOrigin.CONNECT_FAILED);
    split.localFailure(B, LocalOrigin.CONNECT_FAILED);
    assertThat(split.ejected(B)).as("a made connection broke the local run").isFalse();
    split.localFailure(B, LocalOrigin.TIMEOUT);
    assertThat(split.ejected(B)).as("three local failures in a row").isTrue();
  }

  @Test
  void aMadeTcpConnectionIsASuccessButAnHttpConnectionOnlyItsResponse() {
    h.configure(List.of(cluster(OutlierSpec.consecutive5xx(2, 30_000, 100), A, B)));
    h.response(A, 500);
    h.connected(A, false);
    h.response(A, 500);
    assertThat(h.ejected(A)).as("an HTTP connection made says nothing about the answer").isTrue();
    h.localFailure(B, LocalOrigin.CONNECT_FAILED);
    h.connected(B, true);
    h.localFailure(B, LocalOrigin.CONNECT_FAILED);
    assertThat(h.ejected(B)).as("a TCP connection made is the attempt's success").isFalse();
  }

  @Test
  void ejectionTimeGrowsWithEachEjectionUpToTheMaximumAndShrinksOnHealthySweeps() {
    h.configure(List.of(cluster(spec(new Consecutive(1, 100), OFF, OFF, false, 1_000, 2_500, 100, SR_OFF, FP_OFF), A, B)));
    h.response(A, 500);
    assertThat(ejectedFor(A)).isEqualTo(1_000);
    h.response(A, 500);
    assertThat(ejectedFor(A)).as("second ejection: 2 x base").isEqualTo(2_000);
    h.response(A, 500);
    assertThat(ejectedFor(A)).as("third: capped by max_ejection_time").isEqualTo(2_500);
    h.sweep("c");
    h.sweep("c");
    h.response(A, 500);
    assertThat(ejectedFor(A)).as("two healthy sweeps took the multiplier from 3 to 1, this is the second").isEqualTo(2_000);
  }

  /** Ejects nothing new while {@code a} is out; returns how long it stayed out, and leaves it back in. */
  long ejectedFor(InetSocketAddress a) {
    long start = now.get();
    assertThat(h.ejected(a)).isTrue();
    while (h.ejected(a)) {
      now.addAndGet(100);
    }
    return now.get() - start;
  }

  @Test
  void successRateEjectsTheEndpointBelowMeanMinusFactorTimesStdev() {
    SuccessRate sr = new SuccessRate(100, 0, 5, 100, 1900);
    h.configure(List.of(cluster(spec(OFF, OFF, OFF, false, 30_000, 300_000, 100, sr, FP_OFF), A, B, C, D, E)));
    for (InetSocketAddress a : List.of(A, B, C, D)) {
      answer(a, 200, 100);
    }
    answer(E, 200, 50);
    answer(E, 500, 50);
    // rates 100,100,100,100,50: mean 90, stdev 20, threshold 90 - 1.9 x 20 = 52
    h.sweep("c");
    assertThat(h.ejected(E)).isTrue();
    assertThat(List.of(A, B, C, D)).noneMatch(h::ejected);
  }

  @Test
  void successRateNeedsEnoughEndpointsWithEnoughRequestsInTheInterval() {
    SuccessRate sr = new SuccessRate(100, 0, 5, 100, 1900);
    h.configure(List.of(cluster(spec(OFF, OFF, OFF, false, 30_000, 300_000, 100, sr, FP_OFF), A, B, C, D, E)));
    for (InetSocketAddress a : List.of(A, B, C)) {
      answer(a, 200, 100);
    }
    answer(D, 200, 99);
    answer(E, 500, 100);
    h.sweep("c");
    assertThat(h.ejected(E)).as("only 4 endpoints had 100 requests").isFalse();
    answer(D, 200, 1);
    for (InetSocketAddress a : List.of(A, B, C)) {
      answer(a, 200, 100);
    }
    h.sweep("c");
    assertThat(h.ejected(E)).as("the last interval's requests were forgotten, E had none this time").isFalse();
  }

  @Test
  void failurePercentageEjectsAtTheThresholdAmongEndpointsWithVolume() {
    FailurePercentage fp = new FailurePercentage(100, 0, 50, 2, 10);
    h.configure(List.of(cluster(spec(OFF, OFF, OFF, false, 30_000, 300_000, 100, SR_OFF, fp), A, B, C)));
    answer(A, 200, 10);
    answer(B, 200, 5);
    answer(B, 503, 5);
    answer(C, 500, 9);
    h.sweep("c");
    assertThat(h.ejected(B)).as("50% failed, threshold 50").isTrue();
    assertThat(h.ejected(C)).as("9 requests: below the volume").isFalse();
    assertThat(h.ejected(A)).isFalse();
  }

  @Test
  void localOriginSuccessRateIsItsOwnWhenSplit() {
    SuccessRate sr = new SuccessRate(0, 100, 2, 10, 1000);
    h.configure(List.of(cluster(spec(OFF, OFF, OFF, true, 30_000, 300_000, 100, sr, FP_OFF), A, B, C)));
    for (int i = 0; i < 10; i++) {
      h.connected(A, false);
      h.connected(B, false);
      h.localFailure(C, LocalOrigin.CONNECT_FAILED);
      h.response(A, 500);
    }
    h.sweep("c");
    assertThat(h.ejected(C)).as("every connection to C failed").isTrue();
    assertThat(h.ejected(A)).as("A's 5xx answers do not count for the local-origin detector").isFalse();
  }

  @Test
  void aPassedActiveCheckEndsAnOutlierEjection() {
    h.configure(List.of(cluster(OutlierSpec.consecutive5xx(1, 30_000, 100), A)));
    h.response(A, 500);
    assertThat(h.ejected(A)).isTrue();
    h.checked(A, true, 2, 1);
    assertThat(h.ejected(A)).isFalse();
  }

  @Test
  void activeChecksTakeAnEndpointOutAfterUnhealthyThresholdAndBackAfterHealthyThreshold() {
    assertThat(h.ejected(A)).as("never checked: healthy").isFalse();
    h.checked(A, false, 2, 3);
    assertThat(h.ejected(A)).isFalse();
    h.checked(A, true, 2, 3);
    h.checked(A, false, 2, 3);
    assertThat(h.ejected(A)).as("failures must be in a row").isFalse();
    h.checked(A, false, 2, 3);
    assertThat(h.ejected(A)).isTrue();
    h.checked(A, true, 2, 3);
    h.checked(A, true, 2, 3);
    assertThat(h.ejected(A)).isTrue();
    h.checked(A, true, 2, 3);
    assertThat(h.ejected(A)).isFalse();
    h.checked(A, false, 2, 3);
    h.checked(A, false, 2, 3);
    h.uncheck(A);
    assertThat(h.ejected(A)).as("no longer checked: forgotten").isFalse();
  }
}
