package io.trellis.xds.meshcircuitbreaker;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.trellis.api.model.MeshCircuitBreakerSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import java.util.List;

/** MeshCircuitBreaker → cluster circuit breaker thresholds and outlier detection. */
public final class CircuitBreakerConfigurer {
  public static final String POLICY_TYPE = "MeshCircuitBreaker";

  private CircuitBreakerConfigurer() {}

  public static void apply(Cluster.Builder cluster, List<PolicyRules> rules) {
    MeshCircuitBreakerSpec.Conf conf = Rules.whole(rules, POLICY_TYPE, MeshCircuitBreakerSpec.Conf.class).orElse(null);
    if (conf == null) {
      return;
    }
    MeshCircuitBreakerSpec.ConnectionLimits l = conf.connectionLimits();
    if (l != null) {
      CircuitBreakers.Thresholds.Builder t = CircuitBreakers.Thresholds.newBuilder();
      if (l.maxConnections() != null) {
        t.setMaxConnections(UInt32Value.of(l.maxConnections()));
      }
      if (l.maxPendingRequests() != null) {
        t.setMaxPendingRequests(UInt32Value.of(l.maxPendingRequests()));
      }
      if (l.maxRequests() != null) {
        t.setMaxRequests(UInt32Value.of(l.maxRequests()));
      }
      if (l.maxRetries() != null) {
        t.setMaxRetries(UInt32Value.of(l.maxRetries()));
      }
      if (l.maxConnectionPools() != null) {
        t.setMaxConnectionPools(UInt32Value.of(l.maxConnectionPools()));
      }
      cluster.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(t));
    }
    MeshCircuitBreakerSpec.OutlierDetection o = conf.outlierDetection();
    if (o != null && !Boolean.TRUE.equals(o.disabled())) {
      OutlierDetection.Builder b = OutlierDetection.newBuilder();
      if (o.interval() != null) {
        b.setInterval(Protos.duration(o.interval()));
      }
      if (o.baseEjectionTime() != null) {
        b.setBaseEjectionTime(Protos.duration(o.baseEjectionTime()));
      }
      if (o.maxEjectionPercent() != null) {
        b.setMaxEjectionPercent(UInt32Value.of(o.maxEjectionPercent()));
      }
      if (o.splitExternalAndLocalErrors() != null) {
        b.setSplitExternalLocalOriginErrors(o.splitExternalAndLocalErrors());
      }
      // Envoy enables every detector by default; Kuma enables only the ones listed, so zero the rest.
      b.setEnforcingConsecutive5Xx(UInt32Value.of(0))
          .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(0))
          .setEnforcingConsecutiveLocalOriginFailure(UInt32Value.of(0))
          .setEnforcingSuccessRate(UInt32Value.of(0))
          .setEnforcingFailurePercentage(UInt32Value.of(0));
      MeshCircuitBreakerSpec.Detectors d = o.detectors();
      if (d != null) {
        if (d.totalFailures() != null && d.totalFailures().consecutive() != null) {
          b.setConsecutive5Xx(UInt32Value.of(d.totalFailures().consecutive())).setEnforcingConsecutive5Xx(UInt32Value.of(100));
        }
        if (d.gatewayFailures() != null && d.gatewayFailures().consecutive() != null) {
          b.setConsecutiveGatewayFailure(UInt32Value.of(d.gatewayFailures().consecutive()))
              .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(100));
        }
        if (d.localOriginFailures() != null && d.localOriginFailures().consecutive() != null) {
          b.setConsecutiveLocalOriginFailure(UInt32Value.of(d.localOriginFailures().consecutive()))
              .setEnforcingConsecutiveLocalOriginFailure(UInt32Value.of(100));
        }
        if (d.successRate() != null) {
          b.setEnforcingSuccessRate(UInt32Value.of(100));
          if (d.successRate().minimumHosts() != null) {
            b.setSuccessRateMinimumHosts(UInt32Value.of(d.successRate().minimumHosts()));
          }
          if (d.successRate().requestVolume() != null) {
            b.setSuccessRateRequestVolume(UInt32Value.of(d.successRate().requestVolume()));
          }
          if (d.successRate().standardDeviationFactor() != null) {
            // Kuma's factor is a decimal (1.9); Envoy's is that value times 1000.
            double f = Double.parseDouble(d.successRate().standardDeviationFactor().asText());
            b.setSuccessRateStdevFactor(UInt32Value.of((int) Math.round(f * 1000)));
          }
        }
        if (d.failurePercentage() != null) {
          b.setEnforcingFailurePercentage(UInt32Value.of(100));
          if (d.failurePercentage().threshold() != null) {
            b.setFailurePercentageThreshold(UInt32Value.of(d.failurePercentage().threshold()));
          }
          if (d.failurePercentage().minimumHosts() != null) {
            b.setFailurePercentageMinimumHosts(UInt32Value.of(d.failurePercentage().minimumHosts()));
          }
          if (d.failurePercentage().requestVolume() != null) {
            b.setFailurePercentageRequestVolume(UInt32Value.of(d.failurePercentage().requestVolume()));
          }
        }
      }
      cluster.setOutlierDetection(b);
    }
  }
}
