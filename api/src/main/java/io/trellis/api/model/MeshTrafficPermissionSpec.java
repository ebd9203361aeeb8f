package io.trellis.api.model;

import java.util.List;

/** MeshTrafficPermission: which clients ({@code from}) may reach the selected proxies' inbounds. */
public record MeshTrafficPermissionSpec(TargetRef targetRef, List<PolicyItem<Conf>> from)
    implements PolicySpec {

  public record Conf(Action action) {}

  /** Spelled as on the wire. */
  public enum Action {
    Allow,
    Deny,
    AllowWithShadowDeny
  }
}
