package io.trellis.xds.meshhttproute;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.trellis.api.model.BackendRef;
import io.trellis.api.model.HeaderModifier;
import io.trellis.api.model.HttpHeaderMatch;
import io.trellis.api.model.MeshHttpRouteSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Names;
import io.trellis.xds.translate.Rules;
import io.trellis.xds.translate.TranslationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * MeshHTTPRoute → Envoy routes of a destination's virtual host. The merged rule's {@code conf_json} is
 * the {@code to[]} entry without its targetRef: {@code {"hostnames":[…],"rules":[{"matches":[…],"default":{…}}]}}.
 * Rules come first in the order given; a catch-all route to the destination itself ends the list.
 */
public final class HttpRouteConfigurer {
  public static final String POLICY_TYPE = "MeshHTTPRoute";

  /** The shape of a merged MeshHTTPRoute conf. */
  public record RouteConf(List<String> hostnames, List<MeshHttpRouteSpec.Rule> rules) {}

  private HttpRouteConfigurer() {}

  public static Optional<RouteConf> conf(List<PolicyRules> rules) {
    return Rules.whole(rules, POLICY_TYPE, RouteConf.class);
  }

  /**
   * Routes for a destination. {@code action} lets the caller add timeouts/retries to every route action.
   */
  public static List<Route> routes(String service, List<PolicyRules> rules, Consumer<RouteAction.Builder> action) {
    List<Route> routes = new ArrayList<>();
    RouteConf conf = conf(rules).orElse(null);
    if (conf != null && conf.rules() != null) {
      int i = 0;
      for (MeshHttpRouteSpec.Rule rule : conf.rules()) {
        List<MeshHttpRouteSpec.Match> matches = rule.matches() == null || rule.matches().isEmpty()
            ? List.of(new MeshHttpRouteSpec.Match(null, null, null, null)) : rule.matches();
        for (MeshHttpRouteSpec.Match m : matches) {
          routes.add(route(service, "rule-" + i, m, rule.conf(), action));
        }
        i++;
      }
    }
    RouteAction.Builder fallback = RouteAction.newBuilder().setCluster(service);
    action.accept(fallback);
    routes.add(Route.newBuilder().setName("default")
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(fallback).build());
    return routes;
  }

  /** One route; {@code service} (null for gateways) is the default backend when the rule names none. */
  public static Route route(String service, String name, MeshHttpRouteSpec.Match m, MeshHttpRouteSpec.Conf conf,
      Consumer<RouteAction.Builder> action) {
    RouteMatch.Builder match = RouteMatch.newBuilder();
    if (m.path() == null || m.path().type() == null) {
      match.setPrefix("/");
    } else {
      switch (m.path().type()) {
        case Exact -> match.setPath(m.path().value());
        case PathPrefix -> {
          // Kuma/Gateway API prefix semantics: /api matches /api and /api/x but not /apix.
          if ("/".equals(m.path().value())) {
            match.setPrefix("/");
          } else {
            match.setPathSeparatedPrefix(stripSlash(m.path().value()));
          }
        }
        case RegularExpression -> match.setSafeRegex(RegexMatcher.newBuilder().setRegex(m.path().value()));
      }
    }
    if (m.method() != null) {
      match.addHeaders(HeaderMatcher.newBuilder().setName(":method")
          .setStringMatch(StringMatcher.newBuilder().setExact(m.method())));
    }
    if (m.headers() != null) {
      m.headers().forEach(h -> match.addHeaders(header(h)));
    }
    if (m.queryParams() != null) {
      m.queryParams().forEach(q -> match.addQueryParameters(query(q)));
    }
    Route.Builder route = Route.newBuilder().setName(name).setMatch(match);
    RouteAction.Builder ra = RouteAction.newBuilder();
    List<BackendRef> backends = conf == null || conf.backendRefs() == null || conf.backendRefs().isEmpty()
        ? (service == null ? List.of() : List.of(BackendRef.meshService(service))) : conf.backendRefs();
    if (backends.isEmpty()) {
      throw new TranslationException("backendRefs: empty (expected: at least one backend)");
    }
    if (backends.size() == 1) {
      ra.setCluster(clusterOf(backends.get(0)));
    } else {
      WeightedCluster.Builder w = WeightedCluster.newBuilder();
      for (BackendRef b : backends) {
        w.addClusters(WeightedCluster.ClusterWeight.newBuilder().setName(clusterOf(b))
            .setWeight(com.google.protobuf.UInt32Value.of(b.weight() == null ? 1 : b.weight())));
      }
      ra.setWeightedClusters(w);
    }
    action.accept(ra);
    route.setRoute(ra);
    if (conf != null && conf.filters() != null) {
      for (MeshHttpRouteSpec.Filter f : conf.filters()) {
        if (f.type() == null) {
          continue;
        }
        switch (f.type()) {
          case RequestHeaderModifier -> headers(f.requestHeaderModifier(), route::addRequestHeadersToAdd,
              route::addRequestHeadersToRemove);
          case ResponseHeaderModifier -> headers(f.responseHeaderModifier(), route::addResponseHeadersToAdd,
              route::addResponseHeadersToRemove);
          default -> throw new TranslationException("MeshHTTPRoute filters[].type: " + f.type()
              + " (expected: RequestHeaderModifier or ResponseHeaderModifier; others are not translated yet)");
        }
      }
    }
    return route.build();
  }

  /** The cluster a backendRef names: the service's cluster, or a subset cluster when it carries tags. */
  public static String clusterOf(BackendRef b) {
    if (b.name() == null) {
      throw new TranslationException("backendRefs[].name: missing (expected: a MeshService name)");
    }
    return b.tags() == null || b.tags().isEmpty() ? b.name() : Names.subsetCluster(b.name(), b.tags());
  }

  private static HeaderMatcher header(HttpHeaderMatch h) {
    HeaderMatcher.Builder b = HeaderMatcher.newBuilder().setName(h.name());
    HttpHeaderMatch.MatchType type = h.type() == null ? HttpHeaderMatch.MatchType.Exact : h.type();
    switch (type) {
      case Exact -> b.setStringMatch(StringMatcher.newBuilder().setExact(h.value()));
      case Prefix -> b.setStringMatch(StringMatcher.newBuilder().setPrefix(h.value()));
      case RegularExpression -> b.setStringMatch(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(h.value())));
      case Present -> b.setPresentMatch(true);
      case Absent -> b.setPresentMatch(false);
    }
    return b.build();
  }

  private static QueryParameterMatcher query(HttpHeaderMatch q) {
    QueryParameterMatcher.Builder b = QueryParameterMatcher.newBuilder().setName(q.name());
    HttpHeaderMatch.MatchType type = q.type() == null ? HttpHeaderMatch.MatchType.Exact : q.type();
    switch (type) {
      case Exact -> b.setStringMatch(StringMatcher.newBuilder().setExact(q.value()));
      case Prefix -> b.setStringMatch(StringMatcher.newBuilder().setPrefix(q.value()));
      case RegularExpression -> b.setStringMatch(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(q.value())));
      case Present -> b.setPresentMatch(true);
      case Absent -> throw new TranslationException("queryParams[].type: Absent (expected: Exact, Prefix, RegularExpression or Present)");
    }
    return b.build();
  }

  private static void headers(HeaderModifier m, Consumer<HeaderValueOption> add, Consumer<String> remove) {
    if (m == null) {
      return;
    }
    if (m.add() != null) {
      m.add().forEach(h -> add.accept(HeaderValueOption.newBuilder()
          .setHeader(HeaderValue.newBuilder().setKey(h.name()).setValue(h.value()))
          .setAppendAction(HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD).build()));
    }
    if (m.set() != null) {
      m.set().forEach(h -> add.accept(HeaderValueOption.newBuilder()
          .setHeader(HeaderValue.newBuilder().setKey(h.name()).setValue(h.value()))
          .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD).build()));
    }
    if (m.remove() != null) {
      m.remove().forEach(remove);
    }
  }

  private static String stripSlash(String p) {
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }
}
