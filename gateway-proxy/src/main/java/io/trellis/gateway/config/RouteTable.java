package io.trellis.gateway.config;

import io.netty.handler.codec.http.HttpRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A RouteConfiguration: virtual hosts chosen by Host the way Envoy does it (exact, then the longest
 * {@code *.suffix}, then the longest {@code prefix.*}, then {@code *}), then the first matching route.
 */
public final class RouteTable {
  public static final RouteTable EMPTY = new RouteTable("", List.of());

  private final String name;
  private final List<VirtualHostSpec> vhosts;
  private final Map<String, VirtualHostSpec> exact = new HashMap<>();
  private VirtualHostSpec any;
  /** Wildcard domains, lower case, in declaration order: {@code *.suffix} and {@code prefix.*}. */
  private final List<Pattern> suffixes = new ArrayList<>();
  private final List<Pattern> prefixes = new ArrayList<>();

  /** A wildcard domain without its star; {@code length} is the pattern's length with the star. */
  private record Pattern(String text, int length, VirtualHostSpec vhost) {}

  public RouteTable(String name, List<VirtualHostSpec> vhosts) {
    this.name = name;
    this.vhosts = List.copyOf(vhosts);
    for (VirtualHostSpec vh : this.vhosts) {
      for (String d : vh.domains()) {
        String l = d.toLowerCase(Locale.ROOT);
        if (l.equals("*")) {
          any = any == null ? vh : any;
        } else if (!l.startsWith("*") && !l.endsWith("*")) {
          exact.putIfAbsent(l, vh);
        }
      }
    }
    for (VirtualHostSpec vh : this.vhosts) {
      for (String d : vh.domains()) {
        String l = d.toLowerCase(Locale.ROOT);
        if (l.length() > 1 && l.startsWith("*")) {
          suffixes.add(new Pattern(l.substring(1), l.length(), vh));
        }
      }
    }
    for (VirtualHostSpec vh : this.vhosts) {
      for (String d : vh.domains()) {
        String l = d.toLowerCase(Locale.ROOT);
        if (l.length() > 1 && l.endsWith("*")) {
          prefixes.add(new Pattern(l.substring(0, l.length() - 1), l.length(), vh));
        }
      }
    }
  }

  public String name() {
    return name;
  }

  public List<VirtualHostSpec> vhosts() {
    return vhosts;
  }

  /** The route for a request, or null (404). */
  public Match match(String host, HttpRequest req, String path) {
    return match(host, RequestView.of(req), path);
  }

  /** The route for a request, or null (404). */
  public Match match(String host, RequestView req, String path) {
    VirtualHostSpec vh = vhost(host);
    if (vh == null) {
      return null;
    }
    for (RouteSpec r : vh.routes()) {
      if (r.matches(req, path)) {
        return new Match(vh, r);
      }
    }
    return null;
  }

  public record Match(VirtualHostSpec vhost, RouteSpec route) {}

  VirtualHostSpec vhost(String rawHost) {
    if (rawHost == null || (exact.isEmpty() && suffixes.isEmpty() && prefixes.isEmpty())) {
      return any;
    }
    String host = rawHost.toLowerCase(Locale.ROOT);
    int colon = host.lastIndexOf(':');
    String bare = colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : null;
    // Exact names win with or without the port (clients add it for non-default ports, as Envoy's
    // strip_matching_host_port would), then wildcards against the Host as sent, then without its port.
    VirtualHostSpec vh = exact.get(host);
    if (vh == null && bare != null) {
      vh = exact.get(bare);
    }
    if (vh == null) {
      vh = wildcard(host);
    }
    if (vh == null && bare != null) {
      vh = wildcard(bare);
    }
    return vh != null ? vh : any;
  }

  private VirtualHostSpec wildcard(String host) {
    VirtualHostSpec vh = exact.get(host);
    if (vh != null) {
      return vh;
    }
    VirtualHostSpec best = null;
    int bestLen = -1;
    for (Pattern p : suffixes) {
      if (host.endsWith(p.text()) && host.length() > p.length() - 1 && p.length() > bestLen) {
        best = p.vhost();
        bestLen = p.length();
      }
    }
    if (best != null) {
      return best;
    }
    for (Pattern p : prefixes) {
      if (host.startsWith(p.text()) && p.length() > bestLen) {
        best = p.vhost();
        bestLen = p.length();
      }
    }
    return best;
  }
}
