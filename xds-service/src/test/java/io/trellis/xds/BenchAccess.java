package io.trellis.xds;

import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.trellis.xds.translate.XdsResources;

/** Lets the push benchmark build snapshots exactly as {@link ProxySession} does. */
public final class BenchAccess {
  private BenchAccess() {}

  public static Snapshot snapshot(XdsResources r) {
    return SnapshotBuilder.snapshot(r);
  }
}
