package io.trellis.policy.meshtrafficpermission;

import io.trellis.api.model.MeshTrafficPermissionSpec.Action;
import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.Entry;
import io.trellis.policy.matching.MergedRule;
import io.trellis.policy.matching.PolicyPlugin;
import io.trellis.policy.matching.RuleBuilder;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * MeshTrafficPermission: which clients may reach an inbound.
 *
 * <p>Two rules beyond the common merge: at equal match (same {@code from} specificity, same top-level specificity)
 * Deny beats AllowWithShadowDeny beats Allow whatever the policy names; and with mTLS on, a client no rule
 * selects is denied (fail closed). Without mTLS there is no client identity to check, so nothing is enforced,
 * as in Kuma.
 */
public final class MeshTrafficPermissionPlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_TRAFFIC_PERMISSION;
  }

  @Override
  public Comparator<Entry> tieBreak() {
    return Comparator.comparingInt(Entry::policyRank).thenComparingInt(e -> actionRank(action(e.conf())));
  }

  /** The decision for a client carrying {@code peerTags} given an inbound's merged rules. */
  public static Action decide(List<MergedRule> rules, Map<String, String> peerTags, boolean mtlsEnabled) {
    if (!mtlsEnabled) {
      return Action.Allow;
    }
    MergedRule rule = RuleBuilder.ruleFor(rules, peerTags);
    if (rule == null) {
      return Action.Deny;
    }
    Action action = action(rule.conf());
    return action == null ? Action.Deny : action;
  }

  /** Whether a decision lets traffic through (AllowWithShadowDeny does, and only logs the would-be denial). */
  public static boolean allows(Action action) {
    return action == Action.Allow || action == Action.AllowWithShadowDeny;
  }

  private static Action action(com.fasterxml.jackson.databind.JsonNode conf) {
    if (conf == null || !conf.path("action").isTextual()) {
      return null;
    }
    try {
      return Action.valueOf(conf.get("action").asText());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static int actionRank(Action action) {
    if (action == null) {
      return 0;
    }
    return switch (action) {
      case Allow -> 0;
      case AllowWithShadowDeny -> 1;
      case Deny -> 2;
    };
  }
}
