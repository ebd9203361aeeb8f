package io.trellis.xds;

import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.trellis.xds.translate.XdsResources;

/** Lets the push benchmark build snapshots exactly as {@link ProxySession} does. */
public final class BenchAccess {
  private BenchAccess() {}

  public static Snapshot snapshotShared(XdsResources r) {
    return ProxySession.snapshot(ProxySession.intern(r));
  }

  public static Snapshot snapshotPlain(XdsResources r) {
    return ProxySession.snapshot(r);
  }
}
