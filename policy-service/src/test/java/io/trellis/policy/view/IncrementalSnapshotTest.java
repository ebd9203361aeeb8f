package io.trellis.policy.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.policy.v1.ProxyView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property: a snapshot updated change by change ({@link MeshSnapshot#with}) gives every proxy exactly the view a
 * snapshot built from scratch over the same resources gives, and {@link MeshSnapshot#affectedBy} names every proxy
 * whose view a change altered. Random changes over every policy kind and targetRef kind, Dataplanes (sidecars with
 * explicit or transparent outbounds, builtin gateways) created, updated and deleted, ExternalServices, gateways,
 * routes, secrets and the Mesh itself; fixed seeds so a failure replays.
 */
class IncrementalSnapshotTest {
  static final ResourceCodec CODEC = new ResourceCodec();
  static final int SERVICES = 6;
  static final List<String> POLICY_TYPES = List.of("MeshTrafficPermission", "MeshTimeout", "MeshRetry",
      "MeshCircuitBreaker", "MeshHealthCheck", "MeshRateLimit", "MeshFaultInjection", "MeshAccessLog",
      "MeshHTTPRoute", "MeshTCPRoute");

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void incrementalViewsEqualFreshOnes(long seed) {
    Random random = new Random(seed);
    Map<String, Resource> resources = new LinkedHashMap<>();
    Resource mesh = mesh(false);
    for (int i = 0; i < 12; i++) {
      Resource dp = dataplane(random, "dp-" + i);
      resources.put(key(dp), dp);
    }
    for (int i = 0; i < 20; i++) {
      Resource p = policy(random, POLICY_TYPES.get(random.nextInt(POLICY_TYPES.size())), "p-" + i);
      resources.put(key(p), p);
    }
    MeshSnapshot incremental = MeshSnapshot.of("default", mesh, resources.values(), CODEC);
    Set<String> proxies = new java.util.TreeSet<>();
    for (int i = 0; i < 16; i++) {
      proxies.add("dp-" + i);
    }
    for (int step = 0; step < 120; step++) {
      Map<String, Optional<ProxyView>> before = views(incremental, proxies);
      int kind = random.nextInt(10);
      ResourceType type;
      String name;
      Resource old;
      Resource after;
      if (kind == 0) {
        type = ResourceType.MESH;
        name = "default";
        old = mesh;
        after = mesh = mesh(random.nextBoolean());
      } else {
        Resource next = switch (kind) {
          case 1, 2, 3 -> dataplane(random, "dp-" + random.nextInt(16));
          case 4 -> other(random);
          default -> policy(random, POLICY_TYPES.get(random.nextInt(POLICY_TYPES.size())),
              "p-" + random.nextInt(30));
        };
        type = next.type();
        name = next.name();
        boolean delete = random.nextInt(4) == 0;
        old = resources.get(key(next));
        after = delete ? null : next;
        if (delete) {
          resources.remove(key(next));
        } else {
          resources.put(key(next), next);
        }
      }
      String what = "seed " + seed + " step " + step + ": " + type + " " + name + (after == null ? " deleted" : "");
      incremental = incremental.with(type, name, after);
      MeshSnapshot fresh = MeshSnapshot.of("default", mesh, new ArrayList<>(resources.values()), CODEC);
      Map<String, Optional<ProxyView>> now = views(incremental, proxies);
      assertThat(now).as(what).isEqualTo(views(fresh, proxies));
      Set<String> affected = incremental.affectedBy(type, name, old, after);
      if (affected != null) {
        for (String proxy : proxies) {
          if (!affected.contains(proxy)) {
            assertThat(now.get(proxy)).as(what + ": %s changed but is not among the affected %s", proxy, affected)
                .isEqualTo(before.get(proxy));
          }
        }
      }
    }
  }

  static Map<String, Optional<ProxyView>> views(MeshSnapshot snap, Set<String> proxies) {
    Map<String, Optional<ProxyView>> out = new LinkedHashMap<>();
    for (String p : proxies) {
      out.put(p, ProxyViewBuilder.build(snap, p));
    }
    return out;
  }

  static String key(Resource r) {
    return r.type() + "/" + r.name();
  }

  static Resource mesh(boolean mtls) {
    return CODEC.read(mtls ? """
        type: Mesh
        name: default
        mtls:
          enabledBackend: ca-1
          backends: [{name: ca-1, type: builtin}]
        """ : "type: Mesh\nname: default\n");
  }

  static String service(Random random) {
    return "svc-" + random.nextInt(SERVICES);
  }

  static Resource dataplane(Random random, String name) {
    if (random.nextInt(6) == 0) {
      return CODEC.read("""
          type: Dataplane
          mesh: default
          name: %s
          labels: {team: t%d}
          networking:
            address: 10.1.0.%d
            gateway: {type: BUILTIN, tags: {kuma.io/service: edge, zone: z%d}}
          """.formatted(name, random.nextInt(2), random.nextInt(250), random.nextInt(2)));
    }
    String outbound = random.nextBoolean()
        ? "transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001%s}".formatted(
            random.nextBoolean() ? "" : ", reachableServices: [" + service(random) + ", " + service(random) + "]")
        : "outbound:\n    - {port: 10001, tags: {kuma.io/service: %s}}\n    - {port: 10002, tags: {kuma.io/service: %s}}"
            .formatted(service(random), service(random));
    return CODEC.read("""
        type: Dataplane
        mesh: default
        name: %s
        labels: {team: t%d}
        networking:
          address: 10.0.0.%d
          inbound:
            - port: 8080
              tags: {kuma.io/service: %s, version: v%d, kuma.io/protocol: %s}
              %s
          %s
        """.formatted(name, random.nextInt(2), random.nextInt(250), service(random), random.nextInt(2),
        random.nextBoolean() ? "http" : "tcp", random.nextInt(5) == 0 ? "health: {ready: false}" : "",
        outbound));
  }

  /** A random top-level or peer targetRef. */
  static String targetRef(Random random, boolean top) {
    return switch (random.nextInt(top ? 8 : 4)) {
      case 0 -> "{kind: Mesh}";
      case 1 -> "{kind: MeshSubset, tags: {version: v%d}}".formatted(random.nextInt(2));
      case 2 -> "{kind: MeshService, name: %s}".formatted(service(random));
      case 3 -> "{kind: MeshServiceSubset, name: %s, tags: {version: v%d}}".formatted(service(random),
          random.nextInt(2));
      case 4 -> "{kind: Dataplane, name: dp-%d}".formatted(random.nextInt(16));
      case 5 -> "{kind: Dataplane, labels: {team: t%d}}".formatted(random.nextInt(2));
      case 6 -> "{kind: MeshGateway, name: gw-%d}".formatted(random.nextInt(2));
      default -> "{kind: MeshService, name: edge}";
    };
  }

  static Resource policy(Random random, String type, String name) {
    String top = targetRef(random, true);
    String body = switch (type) {
      case "MeshTrafficPermission" -> "from:\n    - targetRef: %s\n      default: {action: %s}".formatted(
          targetRef(random, false), List.of("Allow", "Deny", "AllowWithShadowDeny").get(random.nextInt(3)));
      case "MeshRateLimit", "MeshFaultInjection" -> "from:\n    - targetRef: %s\n      default: %s".formatted(
          targetRef(random, false), conf(random, type));
      case "MeshHTTPRoute" -> ("to:\n    - targetRef: %s\n      rules:\n        - matches: [{path: {type: PathPrefix,"
          + " value: /}}]\n          default: {backendRefs: [{kind: MeshService, name: %s}]}").formatted(
          targetRef(random, false), service(random));
      case "MeshTCPRoute" -> ("to:\n    - targetRef: %s\n      rules:\n        - default: {backendRefs: [{kind:"
          + " MeshService, name: %s}]}").formatted(targetRef(random, false), service(random));
      case "MeshTimeout", "MeshAccessLog" -> ("to:\n    - targetRef: %s\n      default: %s\n"
          + "  from:\n    - targetRef: %s\n      default: %s").formatted(targetRef(random, false),
          conf(random, type), targetRef(random, false), conf(random, type));
      default -> "to:\n    - targetRef: %s\n      default: %s\n    - targetRef: %s\n      default: %s"
          .formatted(targetRef(random, false), conf(random, type), targetRef(random, false), conf(random, type));
    };
    String labels = random.nextInt(4) == 0 ? "labels: {kuma.io/origin: global}\n" : "";
    return CODEC.read("type: %s\nmesh: default\nname: %s\n%sspec:\n  targetRef: %s\n  %s\n".formatted(
        type, name, labels, top, body));
  }

  /** A valid {@code default} of the type, with nested objects and arrays so that merging has work to do. */
  static String conf(Random random, String type) {
    int n = 1 + random.nextInt(9);
    return switch (type) {
      case "MeshTimeout" -> random.nextBoolean() ? "{idleTimeout: %ds}".formatted(n)
          : "{connectionTimeout: %ds, http: {requestTimeout: %ds}}".formatted(n, n + 1);
      case "MeshAccessLog" -> "{backends: [{file: {path: /tmp/log-%d}}]}".formatted(n);
      case "MeshRateLimit" -> "{local: {http: {requestRate: {num: %d, interval: 1s}}}}".formatted(n);
      case "MeshFaultInjection" -> "{http: [{abort: {httpStatus: 500, percentage: %d}}]}".formatted(n * 10);
      case "MeshRetry" -> random.nextBoolean() ? "{http: {numRetries: %d}}".formatted(n)
          : "{tcp: {maxConnectAttempt: %d}}".formatted(n);
      case "MeshHealthCheck" -> "{interval: %ds, healthyThreshold: %d}".formatted(n, n);
      default -> random.nextBoolean() ? "{connectionLimits: {maxConnections: %d}}".formatted(n)
          : "{connectionLimits: {maxPendingRequests: %d}, outlierDetection: {disabled: %b}}".formatted(n,
              random.nextBoolean());
    };
  }

  /** A MeshGateway, a MeshGatewayRoute, an ExternalService or a Secret. */
  static Resource other(Random random) {
    return CODEC.read(switch (random.nextInt(4)) {
      case 0 -> """
          type: MeshGateway
          mesh: default
          name: gw-%d
          selectors:
            - match: {kuma.io/service: edge%s}
          conf:
            listeners:
              - port: %d
                protocol: HTTP
          """.formatted(random.nextInt(2), random.nextBoolean() ? "" : ", zone: z" + random.nextInt(2),
          8080 + random.nextInt(2));
      case 1 -> """
          type: MeshGatewayRoute
          mesh: default
          name: route-%d
          selectors:
            - match: {kuma.io/service: edge}
          conf:
            http:
              rules:
                - matches: [{path: {match: PREFIX, value: /}}]
                  backends:
                    - destination: {kuma.io/service: %s}
          """.formatted(random.nextInt(2), service(random));
      case 2 -> """
          type: ExternalService
          mesh: default
          name: ext-%d
          networking: {address: "example.com:%d"}
          tags: {kuma.io/service: %s}
          """.formatted(random.nextInt(2), 443 + random.nextInt(2), random.nextBoolean() ? "ext" : service(random));
      default -> """
          type: Secret
          mesh: default
          name: secret-%d
          data: %s
          """.formatted(random.nextInt(2), random.nextBoolean() ? "UEVN" : "eA==");
    });
  }
}
