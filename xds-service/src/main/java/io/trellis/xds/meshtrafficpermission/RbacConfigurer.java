package io.trellis.xds.meshtrafficpermission;

import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.trellis.api.model.MeshTrafficPermissionSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.Rule;
import io.trellis.xds.translate.Names;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * MeshTrafficPermission → Envoy RBAC on an inbound. Fails closed: the filter is an ALLOW list, so a
 * peer that no Allow rule matches (including every peer when there are no rules) is denied.
 *
 * <p>The view's rules are ordered most specific subset first and the first matching rule decides
 * (Kuma semantics). Envoy RBAC has no "first match", so each Allow rule becomes a policy whose principal
 * is its own subset AND NOT any earlier Deny rule's subset; an earlier Allow need not be excluded since
 * it allows too.
 */
public final class RbacConfigurer {
  public static final String POLICY_TYPE = "MeshTrafficPermission";
  public static final String HTTP_FILTER = "envoy.filters.http.rbac";
  public static final String NETWORK_FILTER = "envoy.filters.network.rbac";

  private RbacConfigurer() {}

  /** The RBAC rules for one inbound of a proxy in {@code mesh}. */
  public static RBAC rbac(String mesh, List<PolicyRules> inboundRules) {
    List<Rule> rules = Rules.find(inboundRules, POLICY_TYPE).map(PolicyRules::getRulesList).orElse(List.of());
    RBAC.Builder rbac = RBAC.newBuilder().setAction(RBAC.Action.ALLOW);
    List<Principal> earlierDenies = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      Rule rule = rules.get(i);
      MeshTrafficPermissionSpec.Conf conf = Rules.conf(rule, MeshTrafficPermissionSpec.Conf.class);
      Principal subset = principal(mesh, rule);
      if (conf.action() == MeshTrafficPermissionSpec.Action.Deny) {
        earlierDenies.add(subset);
        continue;
      }
      if (conf.action() == null) {
        continue; // no action: neither allows nor denies (Kuma requires it; a missing one must not open access)
      }
      Principal principal = subset;
      if (!earlierDenies.isEmpty()) {
        Principal.Set.Builder and = Principal.Set.newBuilder().addIds(subset);
        earlierDenies.forEach(d -> and.addIds(Principal.newBuilder().setNotId(d)));
        principal = Principal.newBuilder().setAndIds(and).build();
      }
      rbac.putPolicies(String.format("rule-%02d-%s", i, conf.action().name()), Policy.newBuilder()
          .addPermissions(Permission.newBuilder().setAny(true))
          .addPrincipals(principal)
          .build());
    }
    return rbac.build();
  }

  public static HttpFilter httpFilter(String mesh, List<PolicyRules> inboundRules) {
    var config = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
        .setRules(rbac(mesh, inboundRules))
        .build();
    return HttpFilter.newBuilder().setName(HTTP_FILTER).setTypedConfig(Protos.any(config)).build();
  }

  public static Filter networkFilter(String mesh, String statPrefix, List<PolicyRules> inboundRules) {
    var config = io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder()
        .setStatPrefix(statPrefix)
        .setRules(rbac(mesh, inboundRules))
        .build();
    return Filter.newBuilder().setName(NETWORK_FILTER).setTypedConfig(Protos.any(config)).build();
  }

  /** A peer subset as a principal: every tag must be present in the peer certificate's URI SANs. */
  static Principal principal(String mesh, Rule rule) {
    List<Principal> ids = new ArrayList<>();
    new TreeMap<>(rule.getSubsetMap()).forEach((k, v) -> ids.add(tag(mesh, k, v)));
    new TreeMap<>(rule.getNotSubsetMap()).forEach((k, v) -> ids.add(Principal.newBuilder().setNotId(tag(mesh, k, v)).build()));
    if (ids.isEmpty()) {
      return Principal.newBuilder().setAny(true).build();
    }
    if (ids.size() == 1) {
      return ids.get(0);
    }
    return Principal.newBuilder().setAndIds(Principal.Set.newBuilder().addAllIds(ids)).build();
  }

  private static Principal tag(String mesh, String key, String value) {
    String uri = "kuma.io/service".equals(key) ? Names.spiffeId(mesh, value) : Names.tagUri(key, value);
    return Principal.newBuilder()
        .setAuthenticated(Principal.Authenticated.newBuilder()
            .setPrincipalName(StringMatcher.newBuilder().setExact(uri)))
        .build();
  }
}
