package io.trellis.gateway.proxy;

import java.time.Instant;
import org.jboss.logging.Logger;

/** One JSON line per request on the {@code io.trellis.gateway.access} logger. */
final class AccessLog {
  private static final Logger LOG = Logger.getLogger("io.trellis.gateway.access");

  private AccessLog() {}

  static void log(String requestId, String listener, String method, String authority, String path, int status,
      String route, String cluster, String upstream, long durationMs, long upstreamMs, String consumer, String peer) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    StringBuilder b = new StringBuilder(256).append('{');
    field(b, "time", Instant.now().toString()).append(',');
    field(b, "request_id", requestId).append(',');
    field(b, "listener", listener).append(',');
    field(b, "method", method).append(',');
    field(b, "authority", authority).append(',');
    field(b, "path", path).append(',');
    b.append("\"status\":").append(status).append(',');
    field(b, "route", route).append(',');
    field(b, "cluster", cluster).append(',');
    field(b, "upstream", upstream).append(',');
    b.append("\"duration_ms\":").append(durationMs).append(',');
    b.append("\"upstream_ms\":").append(upstreamMs).append(',');
    field(b, "consumer", consumer).append(',');
    field(b, "peer", peer).append('}');
    LOG.info(b.toString());
  }

  private static StringBuilder field(StringBuilder b, String k, String v) {
    b.append('"').append(k).append("\":");
    if (v == null) {
      return b.append("null");
    }
    b.append('"');
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"');
  }
}
