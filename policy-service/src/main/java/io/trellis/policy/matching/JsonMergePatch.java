package io.trellis.policy.matching;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;

/** RFC 7396 JSON merge-patch: objects merge key by key, {@code null} removes, everything else (arrays too) replaces. */
public final class JsonMergePatch {
  private JsonMergePatch() {}

  /** Returns {@code target} patched by {@code patch}; neither argument is modified. */
  public static JsonNode apply(JsonNode target, JsonNode patch) {
    if (patch == null || patch.isMissingNode()) {
      return target;
    }
    if (!patch.isObject()) {
      return patch.deepCopy();
    }
    ObjectNode result = target != null && target.isObject()
        ? ((ObjectNode) target).deepCopy()
        : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getValue().isNull()) {
        result.remove(field.getKey());
      } else {
        result.set(field.getKey(), apply(result.get(field.getKey()), field.getValue()));
      }
    }
    return result;
  }
}
