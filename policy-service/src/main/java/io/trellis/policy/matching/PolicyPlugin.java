package io.trellis.policy.matching;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.model.TargetRef;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How one policy type contributes rules. Each type lives in its own package ({@code io.trellis.policy.<type>}) so
 * adding a policy means adding a package and a line in {@link PolicyPlugins}.
 *
 * <p>The default reads Kuma's common shape from the policy's JSON: {@code from[]} and {@code rules[]} entries
 * configure inbound traffic, {@code to[]} entries outbound traffic, each with a {@code default}.
 */
public interface PolicyPlugin {
  ResourceType type();

  /** Entries about clients of the selected proxies' inbounds. {@code rules[]} entries apply to every client. */
  default List<Entry> fromEntries(Resource policy, JsonNode spec, ObjectMapper json) {
    int rank = TargetRefs.rank(((PolicySpec) policy.spec()).targetRef());
    List<Entry> out = new ArrayList<>();
    for (JsonNode item : spec.path("from")) {
      out.add(new Entry(targetRef(item.get("targetRef"), json), item.get("default"), policy.name(), rank));
    }
    for (JsonNode item : spec.path("rules")) {
      out.add(new Entry(null, item.get("default"), policy.name(), rank));
    }
    return out;
  }

  /** Entries about destinations the selected proxies call. */
  default List<Entry> toEntries(Resource policy, JsonNode spec, ObjectMapper json) {
    int rank = TargetRefs.rank(((PolicySpec) policy.spec()).targetRef());
    List<Entry> out = new ArrayList<>();
    for (JsonNode item : spec.path("to")) {
      out.add(new Entry(targetRef(item.get("targetRef"), json), toConf(item), policy.name(), rank));
    }
    return out;
  }

  /** The conf of a {@code to[]} entry: its {@code default} unless the type says otherwise (routes). */
  default JsonNode toConf(JsonNode item) {
    return item.get("default");
  }

  /** Orders entries of equal targetRef specificity beyond policy order; null keeps policy order. */
  default Comparator<Entry> tieBreak() {
    return null;
  }

  static TargetRef targetRef(JsonNode node, ObjectMapper json) {
    if (node == null || node.isNull()) {
      return null;
    }
    try {
      return json.treeToValue(node, TargetRef.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // Stored resources were validated on write; an unreadable targetRef selects nothing rather than everything.
      return new TargetRef(TargetRef.Kind.MeshHTTPRoute, "<invalid>", null, null, null, null, null, null);
    }
  }
}
