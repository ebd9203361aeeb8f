package io.trellis.xds;

import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;

/**
 * A java-control-plane snapshot assembled from per-type resource maps that {@link SnapshotBuilder} reuses
 * across a proxy's snapshots while a type is unchanged ({@link Snapshot#create} would rebuild every map and
 * re-hash every resource on each change).
 */
final class XdsSnapshot extends Snapshot {
  private final SnapshotResources<Cluster> clusters;
  private final SnapshotResources<ClusterLoadAssignment> endpoints;
  private final SnapshotResources<Listener> listeners;
  private final SnapshotResources<RouteConfiguration> routes;
  private final SnapshotResources<Secret> secrets;

  XdsSnapshot(SnapshotResources<Cluster> clusters, SnapshotResources<ClusterLoadAssignment> endpoints,
      SnapshotResources<Listener> listeners, SnapshotResources<RouteConfiguration> routes,
      SnapshotResources<Secret> secrets) {
    this.clusters = clusters;
    this.endpoints = endpoints;
    this.listeners = listeners;
    this.routes = routes;
    this.secrets = secrets;
  }

  @Override
  public SnapshotResources<Cluster> clusters() {
    return clusters;
  }

  @Override
  public SnapshotResources<ClusterLoadAssignment> endpoints() {
    return endpoints;
  }

  @Override
  public SnapshotResources<Listener> listeners() {
    return listeners;
  }

  @Override
  public SnapshotResources<RouteConfiguration> routes() {
    return routes;
  }

  @Override
  public SnapshotResources<Secret> secrets() {
    return secrets;
  }

  /**
   * Snapshot's own method, redeclared: its base class declares it with {@code VersionedResource<? extends
   * Message>} and Snapshot with {@code VersionedResource<?>}, which javac accepts only in a raw override.
   */
  @Override
  @SuppressWarnings("rawtypes")
  public java.util.Map versionedResources(io.envoyproxy.controlplane.cache.Resources.ResourceType type) {
    return super.versionedResources(type);
  }
}
