package io.trellis.api.model;

import java.util.List;

/** MeshTimeout: connection and HTTP timeouts, Kuma duration strings. */
public record MeshTimeoutSpec(
    TargetRef targetRef,
    List<PolicyItem<Conf>> from,
    List<PolicyItem<Conf>> to,
    List<PolicyRule<Conf>> rules)
    implements PolicySpec {

  public record Conf(String connectionTimeout, String idleTimeout, Http http) {}

  public record Http(
      String requestTimeout,
      String streamIdleTimeout,
      String maxStreamDuration,
      String maxConnectionDuration,
      String requestHeadersTimeout) {}
}
