package io.trellis.policy.view;

import io.trellis.api.model.Resource;
import io.trellis.api.model.TargetRef;
import io.trellis.policy.matching.Entry;
import io.trellis.policy.matching.TargetRefs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A policy with its entries extracted once (and kept by later snapshots while the policy is unchanged), not once
 * per proxy. {@code to} entries are also grouped by the service their targetRef names, so an outbound only looks
 * at the entries that can concern it.
 */
final class ParsedPolicy {
  private final Resource resource;
  private final TargetRef top;
  /** Peers' tags the top-level targetRef stands for ({@link TargetRefs#peerSubset}), derived once. */
  private final Map<String, String> topSubset;
  /** {@link PolicyIndex#lookupKey} of the top-level targetRef, derived once. */
  private final String lookupKey;
  /** Whether it selects every proxy and every inbound whatever they are: no top-level targetRef, or Mesh for all proxy types. */
  private final boolean unconditional;
  private final List<Entry> from;
  private final List<Entry> to;
  /** {@code to} entries with a subset naming {@code kuma.io/service}, by that service, in entry order. */
  private final Map<String, List<Entry>> toByService;
  /** Whether some {@code to} entry has a subset without {@code kuma.io/service} (it concerns every service). */
  private final boolean toAnyService;

  ParsedPolicy(Resource resource, TargetRef top, List<Entry> from, List<Entry> to) {
    this.resource = resource;
    this.top = top;
    this.topSubset = top == null ? null : TargetRefs.peerSubset(top);
    this.lookupKey = PolicyIndex.lookupKey(top);
    this.unconditional = top == null
        || top.kind() == TargetRef.Kind.Mesh && (top.proxyTypes() == null || top.proxyTypes().isEmpty());
    this.from = List.copyOf(from);
    this.to = List.copyOf(to);
    Map<String, List<Entry>> byService = new LinkedHashMap<>();
    boolean any = false;
    for (Entry e : to) {
      if (e.subset() == null) {
        continue;
      }
      String service = e.subset().get(TargetRefs.SERVICE);
      if (service == null) {
        any = true;
      } else {
        byService.computeIfAbsent(service, s -> new ArrayList<>()).add(e);
      }
    }
    this.toByService = byService;
    this.toAnyService = any;
  }

  Resource resource() {
    return resource;
  }

  TargetRef top() {
    return top;
  }

  String lookupKey() {
    return lookupKey;
  }

  boolean unconditional() {
    return unconditional;
  }

  boolean selectsProxy(TargetRefs.ProxyInfo proxy) {
    return unconditional || TargetRefs.selectsProxy(top, topSubset, proxy);
  }

  boolean selectsInbound(TargetRefs.ProxyInfo proxy, io.trellis.api.model.DataplaneSpec.Inbound inbound) {
    return unconditional || TargetRefs.selectsInbound(top, topSubset, proxy, inbound);
  }

  List<Entry> from() {
    return from;
  }

  List<Entry> to() {
    return to;
  }

  /** Services named by {@code to} entries. */
  java.util.Set<String> toServices() {
    return toByService.keySet();
  }

  boolean toAnyService() {
    return toAnyService;
  }

  /** The {@code to} entries that concern an outbound to {@code service}, in entry order. */
  List<Entry> toFor(String service) {
    if (!toAnyService) {
      return toByService.getOrDefault(service, List.of());
    }
    List<Entry> out = new ArrayList<>();
    for (Entry e : to) {
      if (e.subset() != null && (e.subset().get(TargetRefs.SERVICE) == null
          || e.subset().get(TargetRefs.SERVICE).equals(service))) {
        out.add(e);
      }
    }
    return out;
  }
}
