package io.trellis.injector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * RFC 6902 applier written for the tests (independent of the library the webhook diffs with), as
 * the API server would apply the webhook's patch: add, remove, replace, move, copy, test.
 */
final class JsonPatchApplier {
  private JsonPatchApplier() {}

  static JsonNode apply(JsonNode patch, JsonNode document) {
    JsonNode doc = document.deepCopy();
    for (JsonNode op : patch) {
      String path = op.get("path").asText();
      switch (op.get("op").asText()) {
        case "add" -> doc = add(doc, path, op.get("value").deepCopy());
        case "remove" -> remove(doc, path);
        case "replace" -> {
          remove(doc, path);
          doc = add(doc, path, op.get("value").deepCopy());
        }
        case "move" -> {
          JsonNode v = get(doc, op.get("from").asText());
          remove(doc, op.get("from").asText());
          doc = add(doc, path, v);
        }
        case "copy" -> doc = add(doc, path, get(doc, op.get("from").asText()).deepCopy());
        case "test" -> {
          if (!get(doc, path).equals(op.get("value"))) {
            throw new AssertionError("test failed at " + path);
          }
        }
        default -> throw new AssertionError("unknown op " + op);
      }
    }
    return doc;
  }

  private static String[] tokens(String path) {
    if (path.isEmpty()) {
      return new String[0];
    }
    if (!path.startsWith("/")) {
      throw new AssertionError("bad pointer " + path);
    }
    String[] t = path.substring(1).split("/", -1);
    for (int i = 0; i < t.length; i++) {
      t[i] = t[i].replace("~1", "/").replace("~0", "~");
    }
    return t;
  }

  private static JsonNode get(JsonNode doc, String path) {
    JsonNode n = doc;
    for (String t : tokens(path)) {
      n = n.isArray() ? n.get(Integer.parseInt(t)) : n.get(t);
      if (n == null) {
        throw new AssertionError("no value at " + path);
      }
    }
    return n;
  }

  private static JsonNode parent(JsonNode doc, String[] t) {
    JsonNode n = doc;
    for (int i = 0; i < t.length - 1; i++) {
      n = n.isArray() ? n.get(Integer.parseInt(t[i])) : n.get(t[i]);
      if (n == null) {
        throw new AssertionError("missing parent for " + String.join("/", t));
      }
    }
    return n;
  }

  private static JsonNode add(JsonNode doc, String path, JsonNode value) {
    String[] t = tokens(path);
    if (t.length == 0) {
      return value;
    }
    JsonNode p = parent(doc, t);
    String last = t[t.length - 1];
    if (p instanceof ArrayNode a) {
      if (last.equals("-")) {
        a.add(value);
      } else {
        int i = Integer.parseInt(last);
        if (i > a.size()) {
          throw new AssertionError("index out of bounds: " + path);
        }
        a.insert(i, value);
      }
    } else {
      ((ObjectNode) p).set(last, value);
    }
    return doc;
  }

  private static void remove(JsonNode doc, String path) {
    String[] t = tokens(path);
    JsonNode p = parent(doc, t);
    String last = t[t.length - 1];
    JsonNode removed = p instanceof ArrayNode a ? a.remove(Integer.parseInt(last)) : ((ObjectNode) p).remove(last);
    if (removed == null) {
      throw new AssertionError("nothing to remove at " + path);
    }
  }
}
