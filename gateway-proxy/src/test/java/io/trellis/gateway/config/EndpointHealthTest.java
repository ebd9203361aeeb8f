package io.trellis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Passive health with per-cluster outlier detection as Envoy ejects: thresholds, max_ejection_percent. */
class EndpointHealthTest {
  static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 80);
  static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 80);
  static final InetSocketAddress C = new InetSocketAddress("10.0.0.3", 80);
  static final InetSocketAddress D = new InetSocketAddress("10.0.0.4", 80);

  static UpstreamCluster cluster(UpstreamCluster.Outlier o, InetSocketAddress... eps) {
    return new UpstreamCluster("c", 1000, List.of(eps), null, null, false, o, 1024, null);
  }

  static void fail(EndpointHealth h, InetSocketAddress a, int times) {
    for (int i = 0; i < times; i++) {
      h.failure(a);
    }
  }

  @Test
  void withoutOutlierDetectionTheDataPlaneDefaultsApply() {
    EndpointHealth h = new EndpointHealth(5, 30_000);
    h.configure(List.of(cluster(null, A, B)));
    fail(h, A, 4);
    assertThat(h.ejected(A)).isFalse();
    fail(h, A, 1);
    assertThat(h.ejected(A)).isTrue();
  }

  @Test
  void theClustersConsecutiveCountEjectsAndASuccessResetsIt() {
    EndpointHealth h = new EndpointHealth(5, 30_000);
    h.configure(List.of(cluster(new UpstreamCluster.Outlier(2, 30_000, 100), A, B)));
    h.failure(A);
    h.success(A);
    h.failure(A);
    assertThat(h.ejected(A)).as("not two in a row").isFalse();
    h.failure(A);
    assertThat(h.ejected(A)).isTrue();
  }

  @Test
  void theFirstEjectionAlwaysHappensLaterOnesOnlyBelowMaxEjectionPercent() {
    EndpointHealth h = new EndpointHealth(5, 30_000);
    h.configure(List.of(cluster(new UpstreamCluster.Outlier(1, 30_000, 20), A, B, C, D)));
    h.failure(A);
    assertThat(h.ejected(A)).as("first ejection even above 20% of 4").isTrue();
    h.failure(B);
    assertThat(h.ejected(B)).as("25% already ejected, 20% allowed").isFalse();
  }

  @Test
  void aDisabledDetectorNeverEjects() {
    EndpointHealth h = new EndpointHealth(5, 30_000);
    h.configure(List.of(cluster(new UpstreamCluster.Outlier(0, 30_000, 100), A)));
    fail(h, A, 50);
    assertThat(h.ejected(A)).isFalse();
  }

  @Test
  void activeChecksTakeAnEndpointOutAfterUnhealthyThresholdAndBackAfterHealthyThreshold() {
    EndpointHealth h = new EndpointHealth(5, 30_000);
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
