package io.trellis.gateway.config;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.Map;

/** The xDS resources the gateway has received, by name, with their version per type URL. */
public record XdsResources(Map<String, Listener> listeners, Map<String, RouteConfiguration> routes,
    Map<String, Cluster> clusters, Map<String, ClusterLoadAssignment> endpoints, Map<String, Secret> secrets,
    Map<String, String> versions) {

  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  public static XdsResources of(Map<String, Listener> listeners, Map<String, RouteConfiguration> routes,
      Map<String, Cluster> clusters, Map<String, ClusterLoadAssignment> endpoints, Map<String, Secret> secrets) {
    return new XdsResources(listeners, routes, clusters, endpoints, secrets, Map.of());
  }
}
