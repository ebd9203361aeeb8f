package io.trellis.api.model;

import java.util.List;

/** MeshRateLimit: local (per proxy) HTTP request and TCP connection rate limits. */
public record MeshRateLimitSpec(
    TargetRef targetRef,
    List<PolicyItem<Conf>> from,
    List<PolicyItem<Conf>> to,
    List<PolicyRule<Conf>> rules)
    implements PolicySpec {

  public record Conf(Local local) {}

  public record Local(Http http, Tcp tcp) {}

  public record Http(Boolean disabled, Rate requestRate, OnRateLimit onRateLimit) {}

  public record Tcp(Boolean disabled, Rate connectionRate) {}

  public record Rate(Integer num, String interval) {}

  public record OnRateLimit(Integer status, HeaderModifier headers) {}
}
