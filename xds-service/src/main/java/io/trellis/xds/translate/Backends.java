package io.trellis.xds.translate;

import io.trellis.api.model.BackendRef;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.xds.meshhttproute.HttpRouteConfigurer;
import io.trellis.xds.meshtcproute.TcpRouteConfigurer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Subset clusters that route rules of a proxy point at (backendRefs carrying tags). */
public final class Backends {
  /** A subset of a service's endpoints. */
  public record Subset(String service, Map<String, String> tags) {}

  private Backends() {}

  public static Map<String, Subset> subsets(ProxyInput in) {
    Map<String, Subset> out = new TreeMap<>();
    for (OutboundView o : in.view().getOutboundsList()) {
      List<BackendRef> refs = new ArrayList<>(TcpRouteConfigurer.backends(o.getRulesList()));
      HttpRouteConfigurer.conf(o.getRulesList()).ifPresent(c -> {
        if (c.rules() != null) {
          c.rules().forEach(r -> {
            if (r.conf() != null && r.conf().backendRefs() != null) {
              refs.addAll(r.conf().backendRefs());
            }
          });
        }
      });
      for (BackendRef b : refs) {
        if (b.name() != null && b.tags() != null && !b.tags().isEmpty()) {
          out.put(Names.subsetCluster(b.name(), b.tags()), new Subset(b.name(), new TreeMap<>(b.tags())));
        }
      }
    }
    return out;
  }
}
