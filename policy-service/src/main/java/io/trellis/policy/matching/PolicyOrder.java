package io.trellis.policy.matching;

import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import java.util.Comparator;
import java.util.List;

/**
 * The order in which matching policies are applied, least specific first, so that later ones win
 * (DESIGN.md section 4): top-level targetRef kind, then {@code kuma.io/origin} (global before zone), then
 * {@code kuma.io/policy-role} (system, producer, consumer, workload-owner), then name: the lexicographically
 * smaller name wins, so it comes last.
 *
 * <p>A policy without {@code kuma.io/origin} is a local (zone) policy; one without {@code kuma.io/policy-role} is
 * treated as {@code workload-owner}, the role Kuma gives a policy that is neither in the system namespace nor a
 * producer/consumer policy.
 */
public final class PolicyOrder {
  public static final String ORIGIN = "kuma.io/origin";
  public static final String ROLE = "kuma.io/policy-role";
  private static final List<String> ROLES = List.of("system", "producer", "consumer", "workload-owner");

  public static final Comparator<Resource> APPLY_ORDER = Comparator
      .comparingInt((Resource r) -> TargetRefs.rank(((PolicySpec) r.spec()).targetRef()))
      .thenComparingInt(PolicyOrder::originRank)
      .thenComparingInt(PolicyOrder::roleRank)
      .thenComparing(Resource::name, Comparator.reverseOrder());

  private PolicyOrder() {}

  static int originRank(Resource r) {
    return "global".equals(r.meta().labels().get(ORIGIN)) ? 0 : 1;
  }

  static int roleRank(Resource r) {
    int i = ROLES.indexOf(r.meta().labels().getOrDefault(ROLE, "workload-owner"));
    return i < 0 ? ROLES.size() - 1 : i;
  }
}
