package io.trellis.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** MeshTCPRoute: TCP traffic splitting per destination. */
public record MeshTcpRouteSpec(TargetRef targetRef, List<To> to) implements PolicySpec {

  public record To(TargetRef targetRef, List<Rule> rules) {}

  public record Rule(@JsonProperty("default") Conf conf) {}

  public record Conf(List<BackendRef> backendRefs) {}
}
