package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** MeshCircuitBreaker: connection limits and outlier detection. */
public record MeshCircuitBreakerSpec(
    TargetRef targetRef,
    List<PolicyItem<Conf>> from,
    List<PolicyItem<Conf>> to,
    List<PolicyRule<Conf>> rules)
    implements PolicySpec {

  public record Conf(ConnectionLimits connectionLimits, OutlierDetection outlierDetection) {}

  public record ConnectionLimits(
      Integer maxConnections,
      Integer maxPendingRequests,
      Integer maxRequests,
      Integer maxRetries,
      Integer maxConnectionPools) {}

  public record OutlierDetection(
      Boolean disabled,
      String interval,
      String baseEjectionTime,
      Integer maxEjectionPercent,
      Boolean splitExternalAndLocalErrors,
      JsonNode healthyPanicThreshold,
      Detectors detectors) {}

  public record Detectors(
      Consecutive totalFailures,
      Consecutive gatewayFailures,
      Consecutive localOriginFailures,
      SuccessRate successRate,
      FailurePercentage failurePercentage) {}

  public record Consecutive(Integer consecutive) {}

  /** {@code standardDeviationFactor} is int-or-string in Kuma, kept as JSON. */
  public record SuccessRate(
      Integer minimumHosts, Integer requestVolume, JsonNode standardDeviationFactor) {}

  public record FailurePercentage(Integer requestVolume, Integer minimumHosts, Integer threshold) {}
}
