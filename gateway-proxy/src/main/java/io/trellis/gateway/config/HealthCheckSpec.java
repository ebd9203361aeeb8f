package io.trellis.gateway.config;

import java.util.List;

/**
 * A cluster's active health check (Envoy {@code health_checks[]}, from MeshHealthCheck): every
 * {@code intervalMillis} each endpoint is probed; {@code unhealthyThreshold} failures in a row take it out of load
 * balancing, {@code healthyThreshold} successes in a row bring it back. HTTP probes send {@code GET path} and pass
 * on a status in one of the {@code [start, end)} ranges; TCP probes connect, write {@code send} and pass once every
 * {@code receive} block has been read (in any order, as Envoy's fuzzy match); with neither, connecting is enough.
 */
public record HealthCheckSpec(long intervalMillis, long timeoutMillis, int unhealthyThreshold, int healthyThreshold,
    Http http, Tcp tcp) {

  public record Http(String path, String host, List<int[]> expectedStatuses) {
    public boolean expected(int status) {
      for (int[] r : expectedStatuses) {
        if (status >= r[0] && status < r[1]) {
          return true;
        }
      }
      return false;
    }
  }

  public record Tcp(byte[] send, List<byte[]> receive) {}

  /** Equal for equal checks (records compare arrays by identity): a new config with the same check keeps probing. */
  public String signature() {
    StringBuilder b = new StringBuilder().append(intervalMillis).append('/').append(timeoutMillis).append('/')
        .append(unhealthyThreshold).append('/').append(healthyThreshold);
    if (http != null) {
      b.append(" http ").append(http.host()).append(http.path());
      http.expectedStatuses().forEach(r -> b.append(' ').append(r[0]).append('-').append(r[1]));
    }
    if (tcp != null) {
      b.append(" tcp ").append(java.util.HexFormat.of().formatHex(tcp.send()));
      tcp.receive().forEach(r -> b.append(' ').append(java.util.HexFormat.of().formatHex(r)));
    }
    return b.toString();
  }
}
