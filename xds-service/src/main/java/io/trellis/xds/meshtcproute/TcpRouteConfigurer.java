package io.trellis.xds.meshtcproute;

import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.trellis.api.model.BackendRef;
import io.trellis.api.model.MeshTcpRouteSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.meshhttproute.HttpRouteConfigurer;
import io.trellis.xds.translate.Rules;
import java.util.List;
import java.util.Optional;

/**
 * MeshTCPRoute → tcp_proxy cluster or weighted clusters. The merged {@code conf_json} is the {@code to[]}
 * entry without its targetRef: {@code {"rules":[{"default":{"backendRefs":[…]}}]}}; the first rule applies
 * (Kuma allows one).
 */
public final class TcpRouteConfigurer {
  public static final String POLICY_TYPE = "MeshTCPRoute";

  /** The shape of a merged MeshTCPRoute conf. */
  public record RouteConf(List<MeshTcpRouteSpec.Rule> rules) {}

  private TcpRouteConfigurer() {}

  public static List<BackendRef> backends(List<PolicyRules> rules) {
    return Rules.whole(rules, POLICY_TYPE, RouteConf.class)
        .flatMap(c -> c.rules() == null ? Optional.empty() : c.rules().stream().findFirst())
        .map(r -> r.conf() == null || r.conf().backendRefs() == null ? List.<BackendRef>of() : r.conf().backendRefs())
        .orElse(List.of());
  }

  /** Sets the tcp_proxy destination: the service itself, or the route's (weighted) backends. */
  public static void apply(TcpProxy.Builder tcp, String service, List<PolicyRules> rules) {
    List<BackendRef> backends = backends(rules);
    if (backends.isEmpty()) {
      tcp.setCluster(service);
    } else if (backends.size() == 1) {
      tcp.setCluster(HttpRouteConfigurer.clusterOf(backends.get(0)));
    } else {
      TcpProxy.WeightedCluster.Builder w = TcpProxy.WeightedCluster.newBuilder();
      for (BackendRef b : backends) {
        w.addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
            .setName(HttpRouteConfigurer.clusterOf(b)).setWeight(b.weight() == null ? 1 : b.weight()));
      }
      tcp.setWeightedClusters(w);
    }
  }
}
