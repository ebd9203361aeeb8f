package io.trellis.policy.matching;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns the entries of all policies matching one target into ordered {@link MergedRule}s, Kuma-style: entries are
 * concatenated in policy order, re-sorted (stably) by their own targetRef specificity, and every subset's conf is
 * the JSON merge-patch of all entries selecting a superset of its peers, in that order (later wins, arrays replaced).
 *
 * <p>Overlapping subsets that are not nested (e.g. {@code version=v1} and {@code zone=east}) also yield their
 * intersection as a rule, so that a peer matching both gets both merged; the intersections are capped to keep a
 * pathological policy set from exploding.
 */
public final class RuleBuilder {
  static final int MAX_SUBSETS = 128;

  private RuleBuilder() {}

  /** Stable sort by entry specificity: the order in which entries are merged. */
  public static List<Entry> sortEntries(List<Entry> inPolicyOrder, Comparator<Entry> tieBreak) {
    List<Entry> sorted = new ArrayList<>(inPolicyOrder);
    Comparator<Entry> order = Comparator.comparingInt(Entry::rank);
    if (tieBreak != null) {
      order = order.thenComparing(tieBreak);
    }
    sorted.sort(order);
    return sorted;
  }

  public static List<MergedRule> build(List<Entry> sortedEntries) {
    List<Entry> usable = sortedEntries.stream().filter(e -> e.subset() != null).toList();
    if (usable.isEmpty()) {
      return List.of();
    }
    Set<Map<String, String>> subsets = new LinkedHashSet<>();
    for (Entry e : usable) {
      subsets.add(e.subset());
    }
    List<Map<String, String>> work = new ArrayList<>(subsets);
    for (int i = 0; i < work.size() && work.size() < MAX_SUBSETS; i++) {
      for (int j = 0; j < i && work.size() < MAX_SUBSETS; j++) {
        Map<String, String> union = union(work.get(i), work.get(j));
        if (union != null && subsets.add(union)) {
          work.add(union);
        }
      }
    }
    List<Map<String, String>> ordered = new ArrayList<>(subsets);
    ordered.sort(Comparator.<Map<String, String>>comparingInt(Map::size).reversed()
        .thenComparing(m -> new TreeMap<>(m).toString()));
    List<MergedRule> rules = new ArrayList<>();
    for (Map<String, String> subset : ordered) {
      JsonNode conf = null;
      List<String> origins = new ArrayList<>();
      for (Entry e : usable) {
        if (TargetRefs.contains(subset, e.subset())) {
          conf = JsonMergePatch.apply(conf, e.conf());
          if (!origins.contains(e.policy())) {
            origins.add(e.policy());
          }
        }
      }
      if (conf != null) {
        rules.add(new MergedRule(subset, conf, List.copyOf(origins)));
      }
    }
    return rules;
  }

  /** The first rule whose subset {@code peerTags} carries, or null. */
  public static MergedRule ruleFor(List<MergedRule> rules, Map<String, String> peerTags) {
    for (MergedRule rule : rules) {
      if (TargetRefs.contains(peerTags, rule.subset())) {
        return rule;
      }
    }
    return null;
  }

  private static Map<String, String> union(Map<String, String> a, Map<String, String> b) {
    Map<String, String> out = new TreeMap<>(a);
    for (Map.Entry<String, String> e : b.entrySet()) {
      String prev = out.putIfAbsent(e.getKey(), e.getValue());
      if (prev != null && !prev.equals(e.getValue())) {
        return null;
      }
    }
    return out.size() == a.size() || out.size() == b.size() ? null : Map.copyOf(out);
  }
}
