package io.trellis.xds.translate;

import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.api.policy.v1.OutboundView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Outbound endpoints → EDS ClusterLoadAssignments, one per service and per referenced subset. */
public final class EndpointTranslator {
  /** The {@link Memo.Key#kind()} of ClusterLoadAssignments. */
  public static final String MEMO_KIND = "endpoints";

  private EndpointTranslator() {}

  public static List<ClusterLoadAssignment> translate(ProxyInput in) {
    List<ClusterLoadAssignment> out = new ArrayList<>(in.view().getOutboundsCount());
    for (OutboundView o : in.view().getOutboundsList()) {
      if (!o.getExternal()) {
        out.add(memoized(in, o.getService(), o.getEndpointsList(), Map.of()));
      }
    }
    Backends.subsets(in).forEach((name, subset) -> in.view().getOutboundsList().stream()
        .filter(o -> o.getService().equals(subset.service()))
        .findFirst()
        .ifPresent(o -> out.add(memoized(in, name, o.getEndpointsList(), subset.tags()))));
    return out;
  }

  private static ClusterLoadAssignment memoized(ProxyInput in, String name, List<Endpoint> endpoints, Map<String, String> tags) {
    return in.memo().get(new Memo.Key(MEMO_KIND, true, name, endpoints, tags), () -> assignment(name, endpoints, tags));
  }

  /** Endpoints grouped by zone (Envoy locality); only those carrying all {@code tags}. */
  public static ClusterLoadAssignment assignment(String clusterName, List<Endpoint> endpoints, Map<String, String> tags) {
    Map<String, LocalityLbEndpoints.Builder> byZone = new TreeMap<>();
    endpoints.stream()
        .filter(e -> e.getTagsMap().entrySet().containsAll(tags.entrySet()))
        .sorted(java.util.Comparator.comparing(Endpoint::getAddress).thenComparingInt(Endpoint::getPort))
        // Proxyless gRPC ignores localities without a weight; Envoy ignores the weight unless locality-weighted.
        .forEach(e -> byZone.computeIfAbsent(e.getZone(), z -> LocalityLbEndpoints.newBuilder()
                .setLocality(Locality.newBuilder().setZone(z))
                .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(1)))
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                    .setAddress(Protos.address(e.getAddress(), e.getPort())))
                .setHealthStatus(e.getHealthy() ? HealthStatus.HEALTHY : HealthStatus.UNHEALTHY)
                .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(Math.max(1, e.getWeight())))));
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(clusterName);
    byZone.values().forEach(cla::addEndpoints);
    return cla.build();
  }
}
