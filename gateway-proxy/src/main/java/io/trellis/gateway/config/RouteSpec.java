package io.trellis.gateway.config;

import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * One route of a virtual host: a match (path, headers incl. {@code :method}) and either weighted upstream
 * clusters or a direct response.
 *
 * @param keyAuthDisabled the route opted out of the HCM's key-auth via typed_per_filter_config
 */
public record RouteSpec(String name, Predicate<String> path, String matchedPrefix, List<HeaderMatch> headers,
    List<WeightedTarget> targets, long timeoutMs, int connectRetries, String prefixRewrite,
    boolean keyAuthDisabled, int directStatus, String directBody) {

  /** A header condition; {@code value == null} means "present". */
  public record HeaderMatch(String name, Predicate<String> value, boolean invert) {
    boolean test(RequestView req, String path) {
      String v = switch (name) {
        case ":method" -> req.method();
        case ":path" -> req.uri();
        case ":authority" -> req.header("host");
        default -> req.header(name);
      };
      boolean hit = value == null ? v != null : value.test(v);
      return hit != invert;
    }
  }

  /** An upstream cluster with its weight. */
  public record WeightedTarget(String cluster, int weight) {}

  public boolean matches(HttpRequest req, String pathOnly) {
    return matches(RequestView.of(req), pathOnly);
  }

  public boolean matches(RequestView req, String pathOnly) {
    if (!path.test(pathOnly)) {
      return false;
    }
    for (HeaderMatch h : headers) {
      if (!h.test(req, pathOnly)) {
        return false;
      }
    }
    return true;
  }

  public boolean isDirect() {
    return directStatus > 0;
  }

  /** Weighted random choice, as Envoy's weighted_clusters. */
  public String pickCluster() {
    if (targets.size() == 1) {
      return targets.get(0).cluster();
    }
    int total = 0;
    for (WeightedTarget t : targets) {
      total += t.weight();
    }
    if (total <= 0) {
      return targets.get(0).cluster();
    }
    int r = ThreadLocalRandom.current().nextInt(total);
    for (WeightedTarget t : targets) {
      r -= t.weight();
      if (r < 0) {
        return t.cluster();
      }
    }
    return targets.get(targets.size() - 1).cluster();
  }

  /** The upstream request target after prefix_rewrite. */
  public String rewrite(String uri) {
    if (prefixRewrite == null || matchedPrefix == null || !uri.startsWith(matchedPrefix)) {
      return uri;
    }
    String rest = uri.substring(matchedPrefix.length());
    String out = prefixRewrite + rest;
    if (out.isEmpty() || out.charAt(0) != '/') {
      out = "/" + out;
    }
    return out.replace("//", "/");
  }
}
