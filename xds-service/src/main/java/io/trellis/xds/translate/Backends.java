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

  /** Memoized: every translator asks, and the answer reads only the outbounds' services and rules. */
  public static Map<String, Subset> subsets(ProxyInput in) {
    List<OutboundView> outbounds = in.view().getOutboundsList();
    Object[] inputs = new Object[outbounds.size() * 2];
    for (int i = 0; i < outbounds.size(); i++) {
      inputs[2 * i] = outbounds.get(i).getService();
      inputs[2 * i + 1] = outbounds.get(i).getRulesList();
    }
    return in.memo().get(new Memo.Key("subsets", false, inputs), () -> compute(in));
  }

  private static Map<String, Subset> compute(ProxyInput in) {
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
    return java.util.Collections.unmodifiableMap(out);
  }
}
