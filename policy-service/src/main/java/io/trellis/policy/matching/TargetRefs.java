package io.trellis.policy.matching;

import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.TargetRef;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Kuma 2.x targetRef semantics: specificity, and which proxies / inbounds / peers a targetRef selects. */
public final class TargetRefs {
  public static final String SERVICE = "kuma.io/service";

  private TargetRefs() {}

  /**
   * Specificity, least to most specific (DESIGN.md section 4): Mesh &lt; MeshSubset &lt; MeshGateway &lt;
   * MeshService &lt; MeshServiceSubset &lt; Dataplane by labels &lt; Dataplane by name &lt; MeshHTTPRoute.
   */
  public static int rank(TargetRef ref) {
    if (ref == null) {
      return 0;
    }
    return switch (ref.kind()) {
      case Mesh -> 0;
      case MeshSubset -> 1;
      case MeshGateway -> 2;
      case MeshService, MeshExternalService, MeshMultiZoneService -> 3;
      case MeshServiceSubset -> 4;
      case Dataplane -> ref.name() == null ? 5 : 6;
      case MeshHTTPRoute -> 7;
    };
  }

  /**
   * The tags a peer (client in {@code from}, destination in {@code to}) must carry to be selected, or null when the
   * kind does not select peers by tags (e.g. MeshHTTPRoute).
   */
  public static Map<String, String> peerSubset(TargetRef ref) {
    if (ref == null) {
      return Map.of();
    }
    Map<String, String> subset = new TreeMap<>();
    switch (ref.kind()) {
      case Mesh -> {
        return Map.of();
      }
      case MeshSubset -> putAll(subset, ref.tags());
      case MeshService, MeshExternalService, MeshMultiZoneService -> subset.put(SERVICE, ref.name());
      case MeshServiceSubset -> {
        putAll(subset, ref.tags());
        subset.put(SERVICE, ref.name());
      }
      default -> {
        return null;
      }
    }
    return Map.copyOf(subset);
  }

  /** What a proxy is, for top-level targetRef matching. */
  public record ProxyInfo(
      String name, Map<String, String> labels, DataplaneSpec spec, String gatewayName, boolean gateway) {}

  /** Whether a top-level targetRef selects the proxy as a whole (used for {@code to} rules and proxy rules). */
  public static boolean selectsProxy(TargetRef ref, ProxyInfo proxy) {
    return selectsProxy(ref, ref == null ? null : peerSubset(ref), proxy);
  }

  /** {@link #selectsProxy(TargetRef, ProxyInfo)} with {@code subset} = {@link #peerSubset}{@code (ref)} derived once. */
  public static boolean selectsProxy(TargetRef ref, Map<String, String> subset, ProxyInfo proxy) {
    if (ref == null) {
      return true;
    }
    if (!proxyTypeMatches(ref, proxy)) {
      return false;
    }
    DataplaneSpec.Networking net = proxy.spec().networking();
    return switch (ref.kind()) {
      case Mesh -> true;
      case MeshGateway -> ref.name() != null && ref.name().equals(proxy.gatewayName());
      case Dataplane -> selectsDataplane(ref, proxy);
      case MeshSubset, MeshService, MeshServiceSubset -> {
        if (net != null && net.gateway() != null && contains(net.gateway().tags(), subset)) {
          yield true;
        }
        if (net != null && net.inbound() != null) {
          for (DataplaneSpec.Inbound in : net.inbound()) {
            if (contains(in.tags(), subset)) {
              yield true;
            }
          }
        }
        yield false;
      }
      default -> false;
    };
  }

  /** Whether a top-level targetRef selects one inbound of the proxy (used for {@code from} rules). */
  public static boolean selectsInbound(TargetRef ref, ProxyInfo proxy, DataplaneSpec.Inbound inbound) {
    return selectsInbound(ref, ref == null ? null : peerSubset(ref), proxy, inbound);
  }

  /** {@link #selectsInbound(TargetRef, ProxyInfo, DataplaneSpec.Inbound)} with {@code subset} derived once. */
  public static boolean selectsInbound(TargetRef ref, Map<String, String> subset, ProxyInfo proxy,
      DataplaneSpec.Inbound inbound) {
    if (ref == null) {
      return true;
    }
    if (!proxyTypeMatches(ref, proxy)) {
      return false;
    }
    return switch (ref.kind()) {
      case Mesh -> true;
      case MeshSubset, MeshService, MeshServiceSubset -> contains(inbound.tags(), subset);
      case Dataplane -> selectsDataplane(ref, proxy)
          && (ref.sectionName() == null
              || ref.sectionName().equals(inbound.name())
              || ref.sectionName().equals(String.valueOf(inbound.port())));
      default -> false;
    };
  }

  private static boolean selectsDataplane(TargetRef ref, ProxyInfo proxy) {
    if (ref.name() != null) {
      return ref.name().equals(proxy.name());
    }
    return ref.labels() != null && contains(proxy.labels(), ref.labels());
  }

  private static boolean proxyTypeMatches(TargetRef ref, ProxyInfo proxy) {
    if (ref.proxyTypes() == null || ref.proxyTypes().isEmpty()) {
      return true;
    }
    return ref.proxyTypes().contains(proxy.gateway() ? TargetRef.ProxyType.Gateway : TargetRef.ProxyType.Sidecar);
  }

  /** Whether {@code tags} carries every entry of {@code subset}. */
  public static boolean contains(Map<String, String> tags, Map<String, String> subset) {
    if (subset == null) {
      return false;
    }
    if (subset.isEmpty()) {
      return true;
    }
    if (tags == null) {
      return false;
    }
    for (Map.Entry<String, String> e : subset.entrySet()) {
      if (!e.getValue().equals(tags.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private static void putAll(Map<String, String> into, Map<String, String> from) {
    if (from != null) {
      into.putAll(new LinkedHashMap<>(from));
    }
  }
}
