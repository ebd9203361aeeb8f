package io.trellis.policy.meshhttproute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.PolicyPlugin;

/**
 * MeshHTTPRoute: a {@code to[]} entry carries {@code hostnames} and {@code rules} instead of a {@code default}; they
 * become the conf. Merging replaces arrays, so the most specific route's rules win as a whole (Kuma merges rules
 * by their matches; that finer merge is not done here).
 */
public final class MeshHttpRoutePlugin implements PolicyPlugin {
  @Override
  public ResourceType type() {
    return ResourceType.MESH_HTTP_ROUTE;
  }

  @Override
  public JsonNode toConf(JsonNode item) {
    ObjectNode conf = JsonNodeFactory.instance.objectNode();
    if (item.has("hostnames")) {
      conf.set("hostnames", item.get("hostnames"));
    }
    if (item.has("rules")) {
      conf.set("rules", item.get("rules"));
    }
    return conf;
  }
}
