package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** MeshHealthCheck: active health checking of destinations ({@code to}). */
public record MeshHealthCheckSpec(TargetRef targetRef, List<PolicyItem<Conf>> to)
    implements PolicySpec {

  public record Conf(
      String interval,
      String timeout,
      Integer unhealthyThreshold,
      Integer healthyThreshold,
      String initialJitter,
      String intervalJitter,
      Integer intervalJitterPercent,
      JsonNode healthyPanicThreshold,
      Boolean failTrafficOnPanic,
      String noTrafficInterval,
      String eventLogPath,
      Boolean alwaysLogHealthCheckFailures,
      Boolean reuseConnection,
      Http http,
      Tcp tcp,
      Grpc grpc) {}

  public record Http(
      Boolean disabled,
      String path,
      List<Integer> expectedStatuses,
      HeaderModifier requestHeadersToAdd) {}

  public record Tcp(Boolean disabled, String send, List<String> receive) {}

  public record Grpc(Boolean disabled, String serviceName, String authority) {}
}
