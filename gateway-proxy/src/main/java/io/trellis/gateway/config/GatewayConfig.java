package io.trellis.gateway.config;

import java.util.Map;

/**
 * The whole data-plane configuration, immutable once built; the data plane swaps it atomically and each
 * request keeps the snapshot it started with.
 *
 * @param dump a JSON rendering for {@code /config_dump}
 */
public record GatewayConfig(Map<String, String> versions, Map<String, ListenerSpec> listeners,
    Map<String, UpstreamCluster> clusters, String dump) {
  public static final GatewayConfig EMPTY = new GatewayConfig(Map.of(), Map.of(), Map.of(), "{\"configs\":[]}");
}
