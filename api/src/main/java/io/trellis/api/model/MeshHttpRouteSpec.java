package io.trellis.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * MeshHTTPRoute: HTTP routing rules per destination (or per gateway listener with {@code
 * to[].targetRef: Mesh}).
 */
public record MeshHttpRouteSpec(TargetRef targetRef, List<To> to) implements PolicySpec {

  public record To(TargetRef targetRef, List<String> hostnames, List<Rule> rules) {}

  public record Rule(List<Match> matches, @JsonProperty("default") Conf conf) {}

  public record Match(
      PathMatch path,
      String method,
      List<HttpHeaderMatch> headers,
      List<HttpHeaderMatch> queryParams) {}

  public record PathMatch(PathMatchType type, String value) {}

  public enum PathMatchType {
    Exact,
    PathPrefix,
    RegularExpression
  }

  public record Conf(List<Filter> filters, List<BackendRef> backendRefs) {}

  /**
   * One filter; {@code type} names which of the other fields is set. Redirect, rewrite and mirror
   * stay JSON.
   */
  public record Filter(
      FilterType type,
      HeaderModifier requestHeaderModifier,
      HeaderModifier responseHeaderModifier,
      JsonNode requestRedirect,
      JsonNode urlRewrite,
      JsonNode requestMirror) {}

  public enum FilterType {
    RequestHeaderModifier,
    ResponseHeaderModifier,
    RequestRedirect,
    URLRewrite,
    RequestMirror
  }
}
