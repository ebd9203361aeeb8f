package io.trellis.policy.bench;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.policy.view.MeshSnapshot;
import io.trellis.policy.view.ProxyViewBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Not a test: run with bench/proxy-views.sh. 1000 services x 2 Dataplanes (each with 3 explicit outbounds),
 * 1000 policies of mixed kinds (MeshTrafficPermission and MeshTimeout on one service each, MeshRetry on a
 * Dataplane label, MeshCircuitBreaker on the whole mesh).
 *
 * <p>Full recompute: snapshot from scratch plus every proxy's view, on one thread (= per core), with the same work
 * with no policies as the reference. One change: the incremental snapshot update (with finding the affected
 * proxies from the index) and the recomputation of each affected proxy's view, with a full snapshot rebuild of the
 * same change as the reference. JIT-warm; medians of several repetitions.
 */
public final class ProxyViewBench {
  static final ResourceCodec CODEC = new ResourceCodec();

  static String dataplaneYaml(int s, int r, int services) {
    return """
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
        (s + 31) % services);
  }

  public static void main(String[] args) {
    int services = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    List<Resource> dataplanes = new ArrayList<>();
    for (int s = 0; s < services; s++) {
      for (int r = 0; r < 2; r++) {
        dataplanes.add(CODEC.read(dataplaneYaml(s, r, services)));
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
    System.out.printf("%d services x 2 Dataplanes (3 explicit outbounds each), %d policies; %d repetitions, median"
        + " (min-max); one thread%n", services, policies.size(), REPS);

    // Full recompute: snapshot from scratch + every proxy's view. No policies is the reference.
    for (int warm = 0; warm < 5; warm++) {
      full(mesh, all, dataplanes);
      full(mesh, dataplanes, dataplanes);
    }
    List<double[]> ref = new ArrayList<>();
    List<double[]> pol = new ArrayList<>();
    for (int rep = 0; rep < REPS; rep++) {
      ref.add(full(mesh, dataplanes, dataplanes));
      pol.add(full(mesh, all, dataplanes));
    }
    double perK = 1000.0 / dataplanes.size();
    System.out.println("full recompute                 snapshot ms     views ms/1000 proxies   total ms/1000 proxies");
    for (var row : List.of(Map.entry("reference: no policies", ref), Map.entry(policies.size() + " policies", pol))) {
      System.out.printf("  %-28s %-15s %-23s %s%n", row.getKey(), stat(row.getValue(), 0, 1),
          stat(row.getValue(), 1, perK), stat(row.getValue(), 2, perK));
    }

    // One change: incremental snapshot update, the affected proxies found from the index, their views recomputed.
    // Reference in the same run: the same change by rebuilding the whole snapshot (the old path).
    MeshSnapshot base = MeshSnapshot.of("default", mesh, all, CODEC);
    System.out.println("one change                     update ms       affected  ms per affected proxy   one-change work"
        + " (update + 1 proxy) ms");
    change(base, mesh, all, "MeshTimeout, top MeshService", p -> timeout(p, "mt-1", "svc-1", "svc-2"), true);
    change(base, mesh, all, "MeshTimeout, top MeshService", p -> timeout(p, "mt-1", "svc-1", "svc-2"), false);
    change(base, mesh, all, "MeshTrafficPermission", p -> CODEC.read("""
        type: MeshTrafficPermission
        mesh: default
        name: mtp-4
        spec:
          targetRef: {kind: MeshService, name: svc-4}
          from:
            - targetRef: {kind: MeshService, name: svc-3}
              default: {action: %s}
        """.formatted(p % 2 == 0 ? "Deny" : "Allow")), false);
    change(base, mesh, all, "MeshRetry, top Dataplane labels", p -> CODEC.read("""
        type: MeshRetry
        mesh: default
        name: mr-2
        spec:
          targetRef: {kind: Dataplane, labels: {team: t2}}
          to:
            - targetRef: {kind: MeshService, name: svc-9}
              default: {http: {numRetries: %d}}
        """.formatted(p % 5 + 1)), false);
    change(base, mesh, all, "MeshCircuitBreaker, top Mesh", p -> CODEC.read("""
        type: MeshCircuitBreaker
        mesh: default
        name: mcb-3
        spec:
          targetRef: {kind: Mesh}
          to:
            - targetRef: {kind: MeshService, name: svc-3}
              default: {connectionLimits: {maxConnections: %d}}
        """.formatted(p + 1)), false);
    change(base, mesh, all, "Dataplane svc-5-1 moved", p -> CODEC.read(dataplaneYaml(5, 1, services)
        .replace("10.0.5.1", "10.9.9." + (p % 200))), false);
  }

  static final int REPS = 9;

  static Resource timeout(int p, String name, String top, String to) {
    return CODEC.read("""
        type: MeshTimeout
        mesh: default
        name: %s
        spec:
          targetRef: {kind: MeshService, name: %s}
          to:
            - targetRef: {kind: MeshService, name: %s}
              default: {idleTimeout: %ds}
        """.formatted(name, top, to, 100 + p));
  }

  /** Median (min-max) of column {@code col} of the rows, times {@code scale}. */
  static String stat(List<double[]> rows, int col, double scale) {
    double[] v = rows.stream().mapToDouble(r -> r[col] * scale).sorted().toArray();
    return String.format("%.2f (%.2f-%.2f)", v[v.length / 2], v[0], v[v.length - 1]);
  }

  /** Applies {@code changes} versions of one resource in turn; prints medians. */
  static void change(MeshSnapshot base, Resource mesh, List<Resource> all, String label,
      java.util.function.IntFunction<Resource> version, boolean warmUpOnly) {
    int rounds = 40;
    List<double[]> rows = new ArrayList<>();
    List<double[]> rebuild = new ArrayList<>();
    MeshSnapshot snap = base;
    for (int i = 0; i < rounds; i++) {
      Resource after = version.apply(i);
      Resource before = snap.resources().stream()
          .filter(r -> r.type() == after.type() && r.name().equals(after.name())).findFirst().orElseThrow();
      long t0 = System.nanoTime();
      MeshSnapshot next = snap.with(after.type(), after.name(), after);
      Set<String> affected = next.affectedBy(after.type(), after.name(), before, after);
      long t1 = System.nanoTime();
      int n = 0;
      for (String name : affected) {
        if (ProxyViewBuilder.build(next, name).isPresent()) {
          n++;
        }
      }
      long t2 = System.nanoTime();
      // reference: the whole snapshot rebuilt for the same change
      List<Resource> resources = next.resources();
      long t3 = System.nanoTime();
      MeshSnapshot fresh = MeshSnapshot.of("default", mesh, resources, CODEC);
      long t4 = System.nanoTime();
      if (i == 0 && !ProxyViewBuilder.build(fresh, affected.iterator().next())
          .equals(ProxyViewBuilder.build(next, affected.iterator().next()))) {
        throw new IllegalStateException(label + ": incremental view differs from the fresh one");
      }
      rows.add(new double[] {(t1 - t0) / 1e6, n, (t2 - t1) / 1e6 / Math.max(1, n)});
      rebuild.add(new double[] {(t4 - t3) / 1e6});
      snap = next;
    }
    if (warmUpOnly) {
      return;
    }
    double[] update = rows.stream().mapToDouble(r -> r[0]).sorted().toArray();
    double[] perProxy = rows.stream().mapToDouble(r -> r[2]).sorted().toArray();
    double[] total = rows.stream().mapToDouble(r -> r[0] + r[2]).sorted().toArray();
    System.out.printf("  %-28s %-15s %-9d %-23s %.3f   (reference: full snapshot rebuild %s ms)%n", label,
        String.format("%.3f", update[rounds / 2]), (int) rows.get(0)[1], String.format("%.3f", perProxy[rounds / 2]),
        total[rounds / 2], stat(rebuild, 0, 1));
  }

  /** {snapshot ms, views ms, total ms} of one full recompute. */
  static double[] full(Resource mesh, List<Resource> resources, List<Resource> dataplanes) {
    long t0 = System.nanoTime();
    MeshSnapshot snap = MeshSnapshot.of("default", mesh, resources, CODEC);
    long t1 = System.nanoTime();
    long bytes = 0;
    for (Resource dp : dataplanes) {
      bytes += ProxyViewBuilder.build(snap, dp.name()).orElseThrow().getSerializedSize();
    }
    long t2 = System.nanoTime();
    if (bytes == 0) {
      throw new IllegalStateException("no views");
    }
    return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t2 - t0) / 1e6};
  }
}
