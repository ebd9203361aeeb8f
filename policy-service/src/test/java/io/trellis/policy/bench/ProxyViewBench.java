package io.trellis.policy.bench;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.policy.view.MeshSnapshot;
import io.trellis.policy.view.ProxyViewBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Not a test: run with bench/proxy-views.sh. 1000 services x 2 Dataplanes (each with 3 explicit outbounds),
 * 1000 policies of mixed kinds. Prints, side by side, the same work with no policies as the reference, so the
 * cost of matching is visible apart from building the views themselves.
 */
public final class ProxyViewBench {
  static final ResourceCodec CODEC = new ResourceCodec();

  public static void main(String[] args) {
    int services = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    List<Resource> dataplanes = new ArrayList<>();
    for (int s = 0; s < services; s++) {
      for (int r = 0; r < 2; r++) {
        dataplanes.add(CODEC.read("""
            type: Dataplane
            mesh: default
            name: svc-%1$d-%2$d
            labels: {team: t%3$d}
            networking:
              address: 10.%4$d.%5$d.%2$d
              inbound:
                - port: 8080
                  tags: {kuma.io/service: svc-%1$d, version: v%2$d, kuma.io/protocol: http}
              outbound:
                - {port: 10001, tags: {kuma.io/service: svc-%6$d}}
                - {port: 10002, tags: {kuma.io/service: svc-%7$d}}
                - {port: 10003, tags: {kuma.io/service: svc-%8$d}}
            """.formatted(s, r, s % 10, s / 250, s % 250, (s + 1) % services, (s + 7) % services,
            (s + 31) % services)));
      }
    }
    List<Resource> policies = new ArrayList<>();
    for (int p = 0; p < 1000; p++) {
      int target = p % services;
      policies.add(CODEC.read(switch (p % 4) {
        case 0 -> """
            type: MeshTrafficPermission
            mesh: default
            name: mtp-%1$d
            spec:
              targetRef: {kind: MeshService, name: svc-%2$d}
              from:
                - targetRef: {kind: MeshService, name: svc-%3$d}
                  default: {action: Allow}
            """.formatted(p, target, (target + services - 1) % services);
        case 1 -> """
            type: MeshTimeout
            mesh: default
            name: mt-%1$d
            spec:
              targetRef: {kind: MeshService, name: svc-%2$d}
              to:
                - targetRef: {kind: MeshService, name: svc-%3$d}
                  default: {idleTimeout: %1$ds}
            """.formatted(p, target, (target + 1) % services);
        case 2 -> """
            type: MeshRetry
            mesh: default
            name: mr-%1$d
            spec:
              targetRef: {kind: Dataplane, labels: {team: t%2$d}}
              to:
                - targetRef: {kind: MeshService, name: svc-%3$d}
                  default: {http: {numRetries: 3}}
            """.formatted(p, p % 10, (target + 7) % services);
        default -> """
            type: MeshCircuitBreaker
            mesh: default
            name: mcb-%1$d
            spec:
              targetRef: {kind: Mesh}
              to:
                - targetRef: {kind: MeshService, name: svc-%2$d}
                  default: {connectionLimits: {maxConnections: %1$d}}
            """.formatted(p, target);
      }));
    }
    Resource mesh = CODEC.read("type: Mesh\nname: default\n");
    List<Resource> all = new ArrayList<>(dataplanes);
    all.addAll(policies);
    for (int warm = 0; warm < 3; warm++) {
      full("warm-up", mesh, all, dataplanes, false);
      full("warm-up", mesh, dataplanes, dataplanes, false);
    }
    full("reference: no policies", mesh, dataplanes, dataplanes, true);
    full("1000 policies", mesh, all, dataplanes, true);

    // One change: rebuild the mesh snapshot and recompute the one proxy the changed policy selects.
    Resource changed = CODEC.read("""
        type: MeshTimeout
        mesh: default
        name: mt-1
        spec:
          targetRef: {kind: MeshService, name: svc-1}
          to:
            - targetRef: {kind: MeshService, name: svc-2}
              default: {idleTimeout: 99s}
        """);
    List<Resource> after = new ArrayList<>(all);
    after.replaceAll(r -> r.type() == changed.type() && r.name().equals("mt-1") ? changed : r);
    int rounds = 50;
    long snapNanos = 0;
    long viewNanos = 0;
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      MeshSnapshot snap = MeshSnapshot.of("default", mesh, after, CODEC);
      long t1 = System.nanoTime();
      ProxyViewBuilder.build(snap, "svc-1-0").orElseThrow();
      ProxyViewBuilder.build(snap, "svc-1-1").orElseThrow();
      long t2 = System.nanoTime();
      snapNanos += t1 - t0;
      viewNanos += t2 - t1;
    }
    System.out.printf("one change: snapshot rebuild %.2f ms, affected views (2 proxies) %.3f ms per proxy%n",
        snapNanos / 1e6 / rounds, viewNanos / 1e6 / rounds / 2);
  }

  static void full(String label, Resource mesh, List<Resource> resources, List<Resource> dataplanes, boolean print) {
    long t0 = System.nanoTime();
    MeshSnapshot snap = MeshSnapshot.of("default", mesh, resources, CODEC);
    long t1 = System.nanoTime();
    long bytes = 0;
    for (Resource dp : dataplanes) {
      bytes += ProxyViewBuilder.build(snap, dp.name()).orElseThrow().getSerializedSize();
    }
    long t2 = System.nanoTime();
    if (print) {
      System.out.printf("%-24s snapshot %.1f ms, %d views %.1f ms (%.1f ms per 1000 proxies, one thread), %d KiB%n",
          label, (t1 - t0) / 1e6, dataplanes.size(), (t2 - t1) / 1e6, (t2 - t1) / 1e6 / dataplanes.size() * 1000,
          bytes / 1024);
    }
  }
}
