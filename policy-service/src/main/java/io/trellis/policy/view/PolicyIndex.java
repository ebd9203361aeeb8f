package io.trellis.policy.view;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.TargetRef;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.policy.matching.Entry;
import io.trellis.policy.matching.PolicyOrder;
import io.trellis.policy.matching.PolicyPlugin;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The policies of one type in apply order, indexed so that a proxy only looks at candidates: by the top-level
 * targetRef (Mesh: every proxy; MeshService/MeshServiceSubset: by service; MeshSubset: by one of its tags;
 * Dataplane: by name or one of its labels; MeshGateway: by gateway name), and by the services their {@code to}
 * entries name. Buckets hold positions in {@link #ordered}, ascending, so candidates keep the apply order.
 *
 * <p>The index only narrows: callers still match every candidate with {@code TargetRefs}, so a bucket that is too
 * wide costs time, never correctness. Immutable; {@link #with} returns a new index sharing the unchanged policies.
 */
final class PolicyIndex {
  private static final int[] NONE = new int[0];

  final PolicyPlugin plugin;
  final List<ParsedPolicy> ordered;
  private final Map<String, ParsedPolicy> byName;
  /** Policies that select every proxy and inbound unconditionally (top-level Mesh for all proxy types). */
  final BitSet unconditional;
  /** Those of them with {@code from}/{@code rules} entries, ascending. */
  final int[] unconditionalWithFrom;
  /**
   * Policies whose bucket key alone decides that they select a proxy (MeshService by name, MeshSubset with one tag,
   * Dataplane by name or one label, MeshGateway by name; no proxyTypes): a candidate found through its key
   * needs no further check.
   */
  final BitSet exact = new BitSet();
  /** Other policies that must be checked against every proxy (MeshSubset without tags, proxyTypes, ...). */
  private final int[] everyProxy;
  private final Map<String, int[]> byService = new HashMap<>();
  private final Map<String, int[]> byTag = new HashMap<>();
  private final Map<String, int[]> byDataplane = new HashMap<>();
  private final Map<String, int[]> byLabel = new HashMap<>();
  private final Map<String, int[]> byGateway = new HashMap<>();
  private final Map<String, int[]> toByService = new HashMap<>();
  private final int[] toAnyService;
  /**
   * Merged rules by the exact entries they were merged from (compared by identity: entries are immutable and shared
   * by every proxy, and by later snapshots while their policy is unchanged). Proxies of one service, or calling the
   * same service, mostly get the same entries: their rules are merged and serialized once.
   */
  private final Map<EntriesKey, Optional<PolicyRules>> rules = new ConcurrentHashMap<>();
  static final int MAX_CACHED_RULES = 1 << 16;

  private PolicyIndex(PolicyPlugin plugin, List<ParsedPolicy> ordered, Map<String, ParsedPolicy> byName) {
    this.plugin = plugin;
    this.ordered = ordered;
    this.byName = byName;
    Map<String, List<Integer>> service = new HashMap<>();
    Map<String, List<Integer>> tag = new HashMap<>();
    Map<String, List<Integer>> dataplane = new HashMap<>();
    Map<String, List<Integer>> label = new HashMap<>();
    Map<String, List<Integer>> gateway = new HashMap<>();
    Map<String, List<Integer>> to = new HashMap<>();
    List<Integer> every = new ArrayList<>();
    List<Integer> toAny = new ArrayList<>();
    BitSet always = new BitSet();
    List<Integer> alwaysWithFrom = new ArrayList<>();
    for (int i = 0; i < ordered.size(); i++) {
      ParsedPolicy p = ordered.get(i);
      TargetRef top = p.top();
      List<Integer> bucket = every;
      if (p.unconditional()) {
        always.set(i);
        bucket = p.from().isEmpty() ? new ArrayList<>() : alwaysWithFrom;
      } else if (top != null) {
        boolean anyProxyType = top.proxyTypes() == null || top.proxyTypes().isEmpty();
        boolean exactKey = anyProxyType && switch (top.kind()) {
          case MeshService -> top.name() != null;
          case MeshSubset -> top.tags() != null && top.tags().size() == 1 && p.lookupKey() != null;
          case Dataplane -> top.name() != null
              || top.labels() != null && top.labels().size() == 1 && p.lookupKey() != null;
          case MeshGateway -> top.name() != null;
          default -> false;
        };
        if (exactKey) {
          exact.set(i);
        }
        switch (top.kind()) {
          case MeshService, MeshServiceSubset -> bucket = top.name() == null ? every : add(service, top.name());
          case MeshSubset -> bucket = p.lookupKey() == null ? every : add(tag, p.lookupKey());
          case Dataplane -> bucket = top.name() != null ? add(dataplane, top.name())
              : p.lookupKey() == null ? every : add(label, p.lookupKey());
          case MeshGateway -> bucket = top.name() == null ? every : add(gateway, top.name());
          default -> bucket = every;
        }
      }
      bucket.add(i);
      for (String s : p.toServices()) {
        add(to, s).add(i);
      }
      if (p.toAnyService()) {
        toAny.add(i);
      }
    }
    this.everyProxy = ints(every);
    this.unconditional = always;
    this.unconditionalWithFrom = ints(alwaysWithFrom);
    this.toAnyService = ints(toAny);
    freeze(service, byService);
    freeze(tag, byTag);
    freeze(dataplane, byDataplane);
    freeze(label, byLabel);
    freeze(gateway, byGateway);
    freeze(to, toByService);
  }

  static PolicyIndex of(PolicyPlugin plugin, Collection<Resource> policies, ResourceCodec codec) {
    Map<String, ParsedPolicy> byName = new HashMap<>();
    List<ParsedPolicy> ordered = new ArrayList<>(policies.size());
    for (Resource r : policies) {
      ParsedPolicy p = parse(plugin, r, codec);
      byName.put(r.name(), p);
      ordered.add(p);
    }
    ordered.sort((a, b) -> PolicyOrder.APPLY_ORDER.compare(a.resource(), b.resource()));
    return new PolicyIndex(plugin, Collections.unmodifiableList(ordered), byName);
  }

  /** This index with the policy {@code name} replaced by {@code after} (null: removed). */
  PolicyIndex with(String name, Resource after, ResourceCodec codec) {
    Map<String, ParsedPolicy> names = new HashMap<>(byName);
    List<ParsedPolicy> list = new ArrayList<>(ordered);
    ParsedPolicy before = names.remove(name);
    if (before != null) {
      list.remove(Collections.binarySearch(list, before,
          (a, b) -> PolicyOrder.APPLY_ORDER.compare(a.resource(), b.resource())));
    }
    if (after != null) {
      ParsedPolicy p = parse(plugin, after, codec);
      names.put(name, p);
      int at = Collections.binarySearch(list, p,
          (a, b) -> PolicyOrder.APPLY_ORDER.compare(a.resource(), b.resource()));
      list.add(at < 0 ? -at - 1 : at, p);
    }
    return new PolicyIndex(plugin, Collections.unmodifiableList(list), names);
  }

  boolean isEmpty() {
    return ordered.isEmpty();
  }

  /**
   * Positions of the policies whose top-level targetRef could select a proxy with these keys, ascending: a
   * superset of the matching ones, {@link #unconditional} ones left out (they match every proxy).
   */
  int[] candidates(IndexedDataplane dp, String gatewayName) {
    if (byService.isEmpty() && byTag.isEmpty() && byDataplane.isEmpty() && byLabel.isEmpty()
        && byGateway.isEmpty()) {
      return everyProxy;
    }
    IntList out = new IntList();
    out.addAll(everyProxy);
    for (String s : dp.services) {
      out.addAll(byService.get(s));
    }
    if (!byTag.isEmpty()) {
      for (String t : dp.tagKeys) {
        out.addAll(byTag.get(t));
      }
    }
    out.addAll(byDataplane.get(dp.name()));
    if (!byLabel.isEmpty()) {
      for (String l : dp.labelKeys) {
        out.addAll(byLabel.get(l));
      }
    }
    if (gatewayName != null) {
      out.addAll(byGateway.get(gatewayName));
    }
    return out.sortedDistinct();
  }

  /** Positions of the policies with {@code to} entries that can concern {@code service}, ascending. */
  int[] toCandidates(String service) {
    return union(toByService.getOrDefault(service, NONE), toAnyService);
  }

  /** The rules merged from {@code entries} (in policy order) by {@code merge}, computed once per distinct list. */
  Optional<PolicyRules> rules(List<Entry> entries, Function<List<Entry>, Optional<PolicyRules>> merge) {
    if (entries.isEmpty()) {
      return Optional.empty();
    }
    EntriesKey key = new EntriesKey(entries.toArray(new Entry[0]));
    Optional<PolicyRules> cached = rules.get(key);
    if (cached == null) {
      cached = merge.apply(entries);
      if (rules.size() < MAX_CACHED_RULES) {
        rules.put(key, cached);
      }
    }
    return cached;
  }

  /** A list of entries compared by identity. */
  private static final class EntriesKey {
    private final Entry[] entries;
    private final int hash;

    EntriesKey(Entry[] entries) {
      this.entries = entries;
      int h = 1;
      for (Entry e : entries) {
        h = 31 * h + System.identityHashCode(e);
      }
      this.hash = h;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof EntriesKey other) || other.hash != hash || other.entries.length != entries.length) {
        return false;
      }
      for (int i = 0; i < entries.length; i++) {
        if (entries[i] != other.entries[i]) {
          return false;
        }
      }
      return true;
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** The union of two ascending position arrays, ascending. */
  static int[] union(int[] a, int[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    IntList out = new IntList();
    out.addAll(a);
    out.addAll(b);
    return out.sortedDistinct();
  }

  private static ParsedPolicy parse(PolicyPlugin plugin, Resource p, ResourceCodec codec) {
    JsonNode spec = codec.toJsonNode(p.spec());
    return new ParsedPolicy(p, ((PolicySpec) p.spec()).targetRef(),
        plugin.fromEntries(p, spec, codec.jsonMapper()), plugin.toEntries(p, spec, codec.jsonMapper()));
  }

  /**
   * The key a MeshSubset (one of the proxy's tags) or a Dataplane-by-labels targetRef (one of its labels) is looked
   * up by: the smallest entry of its tags/labels; null for other kinds or when there is none (then every proxy is a
   * candidate).
   */
  static String lookupKey(TargetRef top) {
    if (top == null || top.kind() == TargetRef.Kind.Dataplane && top.name() != null) {
      return null;
    }
    return switch (top.kind()) {
      case MeshSubset -> firstKey(top.tags());
      case Dataplane -> firstKey(top.labels());
      default -> null;
    };
  }

  private static String firstKey(Map<String, String> tags) {
    if (tags == null || tags.isEmpty()) {
      return null;
    }
    Map.Entry<String, String> first = tags.size() == 1 ? tags.entrySet().iterator().next()
        : new TreeMap<>(tags).firstEntry();
    return first.getValue() == null ? null : IndexedDataplane.key(first.getKey(), first.getValue());
  }

  private static List<Integer> add(Map<String, List<Integer>> map, String key) {
    return map.computeIfAbsent(key, k -> new ArrayList<>());
  }

  private static void freeze(Map<String, List<Integer>> from, Map<String, int[]> into) {
    from.forEach((k, v) -> into.put(k, ints(v)));
  }

  private static int[] ints(List<Integer> list) {
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = list.get(i);
    }
    return out;
  }

  /** A growable int array. */
  static final class IntList {
    private int[] items = new int[16];
    private int size;

    void add(int item) {
      if (size == items.length) {
        items = Arrays.copyOf(items, items.length * 2);
      }
      items[size++] = item;
    }

    void addAll(int[] more) {
      if (more == null || more.length == 0) {
        return;
      }
      if (size + more.length > items.length) {
        items = Arrays.copyOf(items, Math.max(items.length * 2, size + more.length));
      }
      System.arraycopy(more, 0, items, size, more.length);
      size += more.length;
    }

    int[] sortedDistinct() {
      Arrays.sort(items, 0, size);
      int n = 0;
      for (int i = 0; i < size; i++) {
        if (n == 0 || items[n - 1] != items[i]) {
          items[n++] = items[i];
        }
      }
      return Arrays.copyOf(items, n);
    }
  }
}
