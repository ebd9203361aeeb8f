package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * MeshFaultInjection: HTTP aborts, delays and bandwidth limits. {@code percentage} is int-or-string
 * (JSON).
 */
public record MeshFaultInjectionSpec(
    TargetRef targetRef, List<PolicyItem<Conf>> from, List<PolicyItem<Conf>> to)
    implements PolicySpec {

  public record Conf(List<Http> http) {}

  public record Http(Abort abort, Delay delay, ResponseBandwidth responseBandwidth) {}

  public record Abort(Integer httpStatus, JsonNode percentage) {}

  public record Delay(String value, JsonNode percentage) {}

  public record ResponseBandwidth(String limit, JsonNode percentage) {}
}
