package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** MeshRetry: retry policy per destination ({@code to}). */
public record MeshRetrySpec(TargetRef targetRef, List<PolicyItem<Conf>> to) implements PolicySpec {

  public record Conf(Tcp tcp, Http http, Grpc grpc) {}

  public record Tcp(Integer maxConnectAttempt) {}

  public record Http(
      Integer numRetries,
      String perTryTimeout,
      BackOff backOff,
      JsonNode rateLimitedBackOff,
      List<String> retryOn,
      List<HttpHeaderMatch> retriableResponseHeaders,
      List<HttpHeaderMatch> retriableRequestHeaders,
      JsonNode hostSelection,
      Integer hostSelectionMaxAttempts) {}

  public record Grpc(
      Integer numRetries,
      String perTryTimeout,
      BackOff backOff,
      JsonNode rateLimitedBackOff,
      List<String> retryOn) {}

  public record BackOff(String baseInterval, String maxInterval) {}
}
