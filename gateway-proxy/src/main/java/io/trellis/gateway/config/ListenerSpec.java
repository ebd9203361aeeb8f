package io.trellis.gateway.config;

import java.util.List;
import java.util.Locale;

/**
 * A listener: bind address and filter chains. {@code inspectTls} = some chain matches on SNI or the
 * "tls" transport, so connections are first inspected for a ClientHello (Envoy's tls_inspector).
 */
public record ListenerSpec(String name, String host, int port, List<FilterChainSpec> chains,
    FilterChainSpec defaultChain, boolean inspectTls) {

  /**
   * Envoy's filter chain selection, reduced to the fields we use: server_names (exact beats the longest
   * wildcard beats none), then transport_protocol.
   */
  public FilterChainSpec select(String sni, boolean tls) {
    String host = sni == null ? null : sni.toLowerCase(Locale.ROOT);
    String transport = tls ? "tls" : "raw_buffer";
    FilterChainSpec best = null;
    int bestScore = -1;
    for (FilterChainSpec c : chains) {
      if (!c.transportProtocol().isEmpty() && !c.transportProtocol().equals(transport)) {
        continue;
      }
      int score;
      if (c.serverNames().isEmpty()) {
        score = 0;
      } else if (host == null) {
        continue;
      } else {
        score = -1;
        for (String n : c.serverNames()) {
          String l = n.toLowerCase(Locale.ROOT);
          if (l.equals(host)) {
            score = Math.max(score, 100_000);
          } else if (l.startsWith("*.") && host.endsWith(l.substring(1))) {
            score = Math.max(score, l.length());
          }
        }
        if (score < 0) {
          continue;
        }
      }
      score = score * 2 + (c.transportProtocol().isEmpty() ? 0 : 1);
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best != null ? best : defaultChain;
  }
}
