package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/** MeshGatewayRoute (old style, deprecated in Kuma in favour of MeshHTTPRoute/MeshTCPRoute). */
public record MeshGatewayRouteSpec(List<Selector> selectors, Conf conf) implements Spec {

  public record Conf(Http http, Tcp tcp) {}

  public record Http(List<String> hostnames, List<Rule> rules) {}

  public record Rule(List<Match> matches, List<Filter> filters, List<Backend> backends) {}

  public record Match(
      Path path, String method, List<HeaderMatch> headers, List<HeaderMatch> query) {}

  public record Path(MatchType match, String value) {}

  public enum MatchType {
    EXACT,
    PREFIX,
    REGEX,
    PRESENT,
    ABSENT
  }

  public record HeaderMatch(MatchType match, String name, String value) {}

  public record Filter(
      HeaderFilter requestHeader,
      HeaderFilter responseHeader,
      JsonNode mirror,
      JsonNode redirect,
      JsonNode rewrite) {}

  public record HeaderFilter(List<Header> set, List<Header> add, List<String> remove) {}

  public record Header(String name, String value) {}

  public record Backend(Integer weight, Map<String, String> destination) {}

  public record Tcp(List<TcpRule> rules) {}

  public record TcpRule(List<Backend> backends) {}
}
