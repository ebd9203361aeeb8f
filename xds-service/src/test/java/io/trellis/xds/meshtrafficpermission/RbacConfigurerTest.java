package io.trellis.xds.meshtrafficpermission;

import static io.trellis.xds.testing.Views.conf;
import static io.trellis.xds.testing.Views.rules;
import static io.trellis.xds.testing.Views.subset;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.Rule;
import io.trellis.xds.translate.TranslationException;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MeshTrafficPermission semantics checked by running synthetic peers (their certificate URI SANs) through
 * the generated Envoy RBAC rules with a small evaluator of Envoy's ALLOW semantics.
 */
class RbacConfigurerTest {
  static final Set<String> FRONTEND_V1 = Set.of("spiffe://default/frontend", "kuma://kuma.io/service/frontend", "kuma://version/v1");
  static final Set<String> FRONTEND_CANARY = Set.of("spiffe://default/frontend", "kuma://kuma.io/service/frontend", "kuma://version/canary");
  static final Set<String> OPS_TOOL = Set.of("spiffe://default/tool", "kuma://team/ops");
  static final Set<String> OTHER = Set.of("spiffe://default/other");

  static Stream<Arguments> cases() {
    PolicyRules carveOut = rules("MeshTrafficPermission",
        subset("{\"action\":\"Deny\"}", "kuma.io/service", "frontend", "version", "canary"),
        subset("{\"action\":\"Allow\"}", "kuma.io/service", "frontend"),
        subset("{\"action\":\"AllowWithShadowDeny\"}", "team", "ops"));
    Rule allButCanary = Rule.newBuilder().setConfJson("{\"action\":\"Allow\"}").putNotSubset("version", "canary").build();
    return Stream.of(
        Arguments.of("no permission denies every peer", List.of(), FRONTEND_V1, false),
        Arguments.of("Mesh-wide Allow allows any peer", List.of(rules("MeshTrafficPermission", conf("{\"action\":\"Allow\"}"))), OTHER, true),
        Arguments.of("Mesh-wide Deny denies every peer", List.of(rules("MeshTrafficPermission", conf("{\"action\":\"Deny\"}"))), FRONTEND_V1, false),
        Arguments.of("Allow by service allows that service", List.of(carveOut), FRONTEND_V1, true),
        Arguments.of("more specific Deny beats a broader Allow", List.of(carveOut), FRONTEND_CANARY, false),
        Arguments.of("AllowWithShadowDeny allows", List.of(carveOut), OPS_TOOL, true),
        Arguments.of("a peer no rule matches is denied", List.of(carveOut), OTHER, false),
        Arguments.of("negated subset excludes its peers", List.of(rules("MeshTrafficPermission", allButCanary)), FRONTEND_CANARY, false),
        Arguments.of("negated subset allows the rest", List.of(rules("MeshTrafficPermission", allButCanary)), FRONTEND_V1, true),
        Arguments.of("other policy types are ignored", List.of(rules("MeshTimeout", conf("{}"))), FRONTEND_V1, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, List<PolicyRules> rules, Set<String> peer, boolean allowed) {
    assertThat(allowed(RbacConfigurer.rbac("default", rules), peer)).isEqualTo(allowed);
  }

  @Test
  void malformedConfIsAnErrorNamingTheField() {
    assertThatThrownBy(() -> RbacConfigurer.rbac("default", List.of(rules("MeshTrafficPermission", conf("{\"action\":\"Maybe\"}")))))
        .isInstanceOf(TranslationException.class)
        .hasMessageContaining("conf_json of MeshTrafficPermissionSpec rule");
  }

  /** Envoy RBAC with action ALLOW: allowed iff some policy has a matching principal. */
  static boolean allowed(RBAC rbac, Set<String> peerUris) {
    assertThat(rbac.getAction()).isEqualTo(RBAC.Action.ALLOW);
    for (Policy p : rbac.getPoliciesMap().values()) {
      assertThat(p.getPermissionsList()).allMatch(perm -> perm.getAny());
      if (p.getPrincipalsList().stream().anyMatch(pr -> matches(pr, peerUris))) {
        return true;
      }
    }
    return false;
  }

  static boolean matches(Principal p, Set<String> uris) {
    return switch (p.getIdentifierCase()) {
      case ANY -> p.getAny();
      case AUTHENTICATED -> {
        var m = p.getAuthenticated().getPrincipalName();
        yield uris.stream().anyMatch(u -> m.hasPrefix() ? u.startsWith(m.getPrefix()) : u.equals(m.getExact()));
      }
      case AND_IDS -> p.getAndIds().getIdsList().stream().allMatch(x -> matches(x, uris));
      case OR_IDS -> p.getOrIds().getIdsList().stream().anyMatch(x -> matches(x, uris));
      case NOT_ID -> !matches(p.getNotId(), uris);
      default -> throw new AssertionError("unexpected principal " + p);
    };
  }
}
