package io.trellis.policy.matching;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.fixtures.Policies;
import io.trellis.api.model.MeshTrafficPermissionSpec.Action;
import io.trellis.api.model.Resource;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.validation.Validators;
import io.trellis.policy.meshtrafficpermission.MeshTrafficPermissionPlugin;
import io.trellis.policy.view.MeshSnapshot;
import io.trellis.policy.view.ProxyViewBuilder;
import io.trellis.policy.view.Rules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Kuma 2.x targetRef matching (DESIGN.md section 4), one case per rule, evaluated through the real view builder. */
class TargetRefMatchingTest {
  static final ResourceCodec CODEC = new ResourceCodec();

  record Case(String name, List<Resource> resources, String proxy, Consumer<ProxyView> check) {
    @Override
    public String toString() {
      return name;
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matches(Case c) {
    List<Resource> all = new ArrayList<>(c.resources());
    Resource mesh = all.stream().filter(r -> r.type().kumaName().equals("Mesh")).findFirst()
        .orElse(Meshes.defaultMesh());
    all.remove(mesh);
    ProxyView view = ProxyViewBuilder.build(MeshSnapshot.of("default", mesh, all, CODEC), c.proxy()).orElseThrow();
    c.check().accept(view);
  }

  /** Validated like every write. (One case reads unvalidated: today's validators allow only Mesh in MeshTimeout's from.) */
  static Resource yaml(String text) {
    return Validators.requireValid(CODEC.read(text));
  }

  /** A MeshTimeout named {@code name} with top-level {@code top} and one {@code to} entry. */
  static Resource timeout(String name, String top, String to, String conf, String labels) {
    return yaml("""
        type: MeshTimeout
        mesh: default
        name: %s
        labels: {%s}
        spec:
          targetRef: %s
          to:
            - targetRef: %s
              default: %s
        """.formatted(name, labels, top, to, conf));
  }

  static Resource timeout(String name, String top, String conf) {
    return timeout(name, top, "{kind: Mesh}", conf, "");
  }

  static Resource mtp(String name, String top, String from, String action) {
    return yaml("""
        type: MeshTrafficPermission
        mesh: default
        name: %s
        spec:
          targetRef: %s
          from:
            - targetRef: %s
              default: {action: %s}
        """.formatted(name, top, from, action));
  }

  static Resource web() {
    return Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").tag("version", "v1")
        .label("team", "shop").outbound(10001, "backend").build();
  }

  static Resource backend(String name, String address, String version) {
    return Dataplanes.builder().name(name).address(address).inbound(9090, "backend").tag("version", version)
        .protocol("http").build();
  }

  static final Resource MTLS = Meshes.builder().builtinMtls("ca-1").build();

  static JsonNode outConf(ProxyView view, String service, String type) {
    OutboundView out = view.getOutboundsList().stream().filter(o -> o.getService().equals(service)).findFirst()
        .orElseThrow(() -> new AssertionError("no outbound " + service + " in " + view));
    return conf(out.getRulesList(), type, Map.of("kuma.io/service", service));
  }

  static JsonNode conf(List<PolicyRules> rules, String type, Map<String, String> peer) {
    return rules.stream().filter(r -> r.getPolicyType().equals(type)).findFirst()
        .map(r -> RuleBuilder.ruleFor(Rules.fromProto(r), peer))
        .map(MergedRule::conf).orElse(null);
  }

  static List<String> applied(List<PolicyRules> rules, String type) {
    return rules.stream().filter(r -> r.getPolicyType().equals(type)).findFirst()
        .map(r -> (List<String>) List.copyOf(r.getAppliedList())).orElse(List.of());
  }

  static Action decide(ProxyView view, int port, Map<String, String> peer) {
    InboundView in = view.getInboundsList().stream().filter(i -> i.getPort() == port).findFirst().orElseThrow();
    List<MergedRule> rules = in.getRulesList().stream()
        .filter(r -> r.getPolicyType().equals("MeshTrafficPermission")).findFirst()
        .map(Rules::fromProto).orElse(List.of());
    return MeshTrafficPermissionPlugin.decide(rules, peer, view.getMtlsEnabled());
  }

  static Consumer<ProxyView> outTimeout(String field, String expected) {
    return v -> assertThat(outConf(v, "backend", "MeshTimeout").path(field).asText()).isEqualTo(expected);
  }

  static final Map<String, String> ORDERS = Map.of("kuma.io/service", "orders", "version", "v1");
  static final Map<String, String> ORDERS_V2 = Map.of("kuma.io/service", "orders", "version", "v2");
  static final Map<String, String> PAY = Map.of("kuma.io/service", "payments");

  static Stream<Case> cases() {
    String mesh = "{kind: Mesh}";
    return Stream.of(
        new Case("Mesh-wide policy applies to every outbound", List.of(web(),
            timeout("t", mesh, "{idleTimeout: 10s}")), "web-1", outTimeout("idleTimeout", "10s")),
        new Case("MeshService beats Mesh", List.of(web(),
            timeout("a-mesh", mesh, "{idleTimeout: 10s}"),
            timeout("z-svc", "{kind: MeshService, name: web}", "{idleTimeout: 20s}")),
            "web-1", outTimeout("idleTimeout", "20s")),
        new Case("MeshSubset beats Mesh", List.of(web(),
            timeout("a", "{kind: MeshSubset, tags: {version: v1}}", "{idleTimeout: 20s}"),
            timeout("b", mesh, "{idleTimeout: 10s}")),
            "web-1", outTimeout("idleTimeout", "20s")),
        new Case("MeshServiceSubset beats MeshService", List.of(web(),
            timeout("a", "{kind: MeshServiceSubset, name: web, tags: {version: v1}}", "{idleTimeout: 30s}"),
            timeout("b", "{kind: MeshService, name: web}", "{idleTimeout: 20s}")),
            "web-1", outTimeout("idleTimeout", "30s")),
        new Case("Dataplane by labels beats MeshServiceSubset", List.of(web(),
            timeout("a", "{kind: Dataplane, labels: {team: shop}}", "{idleTimeout: 40s}"),
            timeout("b", "{kind: MeshServiceSubset, name: web, tags: {version: v1}}", "{idleTimeout: 30s}")),
            "web-1", outTimeout("idleTimeout", "40s")),
        new Case("Dataplane by name beats Dataplane by labels", List.of(web(),
            timeout("a", "{kind: Dataplane, labels: {team: shop}}", "{idleTimeout: 40s}"),
            timeout("b", "{kind: Dataplane, name: web-1}", "{idleTimeout: 50s}")),
            "web-1", outTimeout("idleTimeout", "50s")),
        new Case("equal specificity: zone origin beats global origin", List.of(web(),
            timeout("a-zone", mesh, "{kind: Mesh}", "{idleTimeout: 2s}", "kuma.io/origin: zone"),
            timeout("0-global", mesh, "{kind: Mesh}", "{idleTimeout: 1s}", "kuma.io/origin: global")),
            "web-1", outTimeout("idleTimeout", "2s")),
        new Case("equal specificity and origin: consumer beats producer", List.of(web(),
            timeout("z-consumer", mesh, "{kind: Mesh}", "{idleTimeout: 2s}", "kuma.io/policy-role: consumer"),
            timeout("a-producer", mesh, "{kind: Mesh}", "{idleTimeout: 1s}", "kuma.io/policy-role: producer")),
            "web-1", outTimeout("idleTimeout", "2s")),
        new Case("equal specificity and origin: workload-owner beats system", List.of(web(),
            timeout("z-owner", mesh, "{kind: Mesh}", "{idleTimeout: 2s}", "kuma.io/policy-role: workload-owner"),
            timeout("a-system", mesh, "{kind: Mesh}", "{idleTimeout: 1s}", "kuma.io/policy-role: system")),
            "web-1", outTimeout("idleTimeout", "2s")),
        new Case("equal specificity, origin and role: lexicographically smaller name wins", List.of(web(),
            timeout("bbb", mesh, "{idleTimeout: 2s}"),
            timeout("aaa", mesh, "{idleTimeout: 1s}")),
            "web-1", outTimeout("idleTimeout", "1s")),
        new Case("to entry MeshService beats to entry Mesh across policies", List.of(web(),
            timeout("top-svc", "{kind: MeshService, name: web}", "{kind: Mesh}", "{idleTimeout: 9s}", ""),
            timeout("top-mesh", mesh, "{kind: MeshService, name: backend}", "{idleTimeout: 3s}", "")),
            "web-1", outTimeout("idleTimeout", "3s")),
        new Case("to entries merge by JSON merge-patch: fields of both kept", List.of(web(),
            timeout("a", mesh, "{kind: Mesh}", "{idleTimeout: 10s}", ""),
            timeout("b", mesh, "{kind: MeshService, name: backend}", "{connectionTimeout: 2s}", "")),
            "web-1", v -> {
              JsonNode conf = outConf(v, "backend", "MeshTimeout");
              assertThat(conf.path("idleTimeout").asText()).isEqualTo("10s");
              assertThat(conf.path("connectionTimeout").asText()).isEqualTo("2s");
            }),
        new Case("to entries merge nested objects key by key", List.of(web(),
            timeout("a", mesh, "{kind: Mesh}", "{http: {requestTimeout: 5s, streamIdleTimeout: 1h}}", ""),
            timeout("b", mesh, "{kind: MeshService, name: backend}", "{http: {requestTimeout: 1s}}", "")),
            "web-1", v -> assertThat(outConf(v, "backend", "MeshTimeout").path("http").toString())
                .isEqualTo("{\"requestTimeout\":\"1s\",\"streamIdleTimeout\":\"1h\"}")),
        new Case("arrays are replaced, not concatenated", List.of(web(), yaml("""
            type: MeshRetry
            mesh: default
            name: wide
            spec:
              targetRef: {kind: Mesh}
              to:
                - targetRef: {kind: Mesh}
                  default: {http: {retryOn: ["5xx", "reset"]}}
            """), yaml("""
            type: MeshRetry
            mesh: default
            name: narrow
            spec:
              targetRef: {kind: Mesh}
              to:
                - targetRef: {kind: MeshService, name: backend}
                  default: {http: {retryOn: ["gateway-error"]}}
            """)), "web-1", v -> assertThat(outConf(v, "backend", "MeshRetry").path("http").path("retryOn").toString())
            .isEqualTo("[\"gateway-error\"]")),
        new Case("a policy on another service does not apply", List.of(web(),
            timeout("other", "{kind: MeshService, name: payments}", "{idleTimeout: 10s}")),
            "web-1", v -> assertThat(outConf(v, "backend", "MeshTimeout")).isNull()),
        new Case("proxyTypes Gateway does not apply to a sidecar", List.of(web(),
            timeout("gw-only", "{kind: Mesh, proxyTypes: [Gateway]}", "{idleTimeout: 10s}")),
            "web-1", v -> assertThat(outConf(v, "backend", "MeshTimeout")).isNull()),
        new Case("proxyTypes Sidecar applies to a sidecar", List.of(web(),
            timeout("sc-only", "{kind: Mesh, proxyTypes: [Sidecar]}", "{idleTimeout: 10s}")),
            "web-1", outTimeout("idleTimeout", "10s")),
        new Case("applied lists policies in the order merged, least specific first", List.of(web(),
            timeout("c", "{kind: Dataplane, name: web-1}", "{idleTimeout: 3s}"),
            timeout("a", mesh, "{idleTimeout: 1s}"),
            timeout("b", "{kind: MeshService, name: web}", "{idleTimeout: 2s}")),
            "web-1", v -> assertThat(applied(v.getOutbounds(0).getRulesList(), "MeshTimeout"))
                .containsExactly("a", "b", "c")),
        new Case("MeshTrafficPermission Allow from Mesh with mTLS on allows", List.of(MTLS, web(),
            mtp("allow", mesh, mesh, "Allow")),
            "web-1", v -> assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Allow)),
        new Case("no permission with mTLS on means denied", List.of(MTLS, web()),
            "web-1", v -> assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Deny)),
        new Case("without mTLS permissions are not enforced", List.of(web()),
            "web-1", v -> assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Allow)),
        new Case("MeshTrafficPermission Deny beats Allow at equal specificity", List.of(MTLS, web(),
            mtp("z-deny", mesh, mesh, "Deny"), mtp("a-allow", mesh, mesh, "Allow")),
            "web-1", v -> assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Deny)),
        new Case("Deny beats Allow at equal specificity whatever the names", List.of(MTLS, web(),
            mtp("a-deny", mesh, mesh, "Deny"), mtp("z-allow", mesh, mesh, "Allow")),
            "web-1", v -> assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Deny)),
        new Case("more specific from Allow beats Mesh Deny", List.of(MTLS, web(),
            mtp("deny-all", mesh, mesh, "Deny"), mtp("orders", mesh, "{kind: MeshService, name: orders}", "Allow")),
            "web-1", v -> {
              assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Allow);
              assertThat(decide(v, 8080, PAY)).isEqualTo(Action.Deny);
            }),
        new Case("AllowWithShadowDeny lets traffic through", List.of(MTLS, web(),
            mtp("shadow", mesh, mesh, "AllowWithShadowDeny")),
            "web-1", v -> {
              assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.AllowWithShadowDeny);
              assertThat(MeshTrafficPermissionPlugin.allows(decide(v, 8080, ORDERS))).isTrue();
            }),
        new Case("MeshServiceSubset Deny carves a version out of a service Allow", List.of(MTLS, web(),
            mtp("orders", mesh, "{kind: MeshService, name: orders}", "Allow"),
            mtp("no-v2", mesh, "{kind: MeshServiceSubset, name: orders, tags: {version: v2}}", "Deny")),
            "web-1", v -> {
              assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Allow);
              assertThat(decide(v, 8080, ORDERS_V2)).isEqualTo(Action.Deny);
            }),
        new Case("a permission for another service leaves this inbound denied", List.of(MTLS, web(),
            mtp("pay", "{kind: MeshService, name: payments}", mesh, "Allow")),
            "web-1", v -> assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Deny)),
        new Case("inbound rules are per inbound: MeshService top-level selects only its inbound", List.of(MTLS,
            Dataplanes.builder().name("multi-1").address("10.0.0.9").inbound(8080, "web").inbound(9000, "admin")
                .build(),
            mtp("web-open", "{kind: MeshService, name: web}", mesh, "Allow")),
            "multi-1", v -> {
              assertThat(decide(v, 8080, ORDERS)).isEqualTo(Action.Allow);
              assertThat(decide(v, 9000, ORDERS)).isEqualTo(Action.Deny);
            }),
        new Case("Dataplane sectionName selects one inbound only", List.of(
            Dataplanes.builder().name("multi-1").address("10.0.0.9").inbound(8080, "web").inbound(9000, "admin")
                .build(), yaml("""
            type: MeshRateLimit
            mesh: default
            name: admin-limit
            spec:
              targetRef: {kind: Dataplane, name: multi-1, sectionName: "9000"}
              from:
                - targetRef: {kind: Mesh}
                  default: {local: {http: {requestRate: {num: 5, interval: 1s}}}}
            """)), "multi-1", v -> {
              assertThat(v.getInbounds(0).getRulesList()).isEmpty();
              assertThat(applied(v.getInbounds(1).getRulesList(), "MeshRateLimit")).containsExactly("admin-limit");
            }),
        new Case("overlapping subsets yield their intersection with both merged", List.of(web(), CODEC.read("""
            type: MeshTimeout
            mesh: default
            name: both
            spec:
              targetRef: {kind: Mesh}
              from:
                - targetRef: {kind: MeshSubset, tags: {version: v1}}
                  default: {idleTimeout: 1s}
                - targetRef: {kind: MeshSubset, tags: {zone: east}}
                  default: {connectionTimeout: 2s}
            """)), "web-1", v -> {
              JsonNode both = conf(v.getInbounds(0).getRulesList(), "MeshTimeout", Map.of("version", "v1", "zone", "east"));
              assertThat(both.path("idleTimeout").asText()).isEqualTo("1s");
              assertThat(both.path("connectionTimeout").asText()).isEqualTo("2s");
              JsonNode one = conf(v.getInbounds(0).getRulesList(), "MeshTimeout", Map.of("zone", "east"));
              assertThat(one.has("idleTimeout")).isFalse();
            }),
        new Case("endpoints are the healthy inbounds of other Dataplanes of the service", List.of(web(),
            backend("backend-1", "10.0.1.1", "v1"), backend("backend-2", "10.0.1.2", "v2"),
            yaml("""
                type: Dataplane
                mesh: default
                name: backend-3
                networking:
                  address: 10.0.1.3
                  inbound:
                    - port: 9090
                      tags: {kuma.io/service: backend}
                      health: {ready: false}
                """)), "web-1", v -> {
              OutboundView out = v.getOutbounds(0);
              assertThat(out.getService()).isEqualTo("backend");
              assertThat(out.getPort()).isEqualTo(10001);
              assertThat(out.getProtocol()).isEqualTo("http");
              assertThat(out.getEndpointsList()).extracting(e -> e.getAddress() + ":" + e.getPort())
                  .containsExactly("10.0.1.1:9090", "10.0.1.2:9090");
              assertThat(out.getEndpoints(1).getTagsMap()).containsEntry("version", "v2");
            }),
        new Case("without transparent proxying only explicit outbounds exist", List.of(web(),
            backend("backend-1", "10.0.1.1", "v1"), backend("pay-1", "10.0.2.1", "v1")),
            "web-1", v -> assertThat(v.getOutboundsList()).extracting(OutboundView::getService)
                .containsExactly("backend")),
        new Case("transparent proxying reaches every service through a virtual IP", List.of(
            Dataplanes.builder().name("tp-1").address("10.0.0.5").inbound(8080, "web").transparentProxying(15006, 15001)
                .build(), backend("backend-1", "10.0.1.1", "v1")),
            "tp-1", v -> {
              assertThat(v.getOutboundsList()).extracting(OutboundView::getService).containsExactly("backend", "web");
              assertThat(v.getOutbounds(0).getAddress()).startsWith("24");
              assertThat(v.getOutbounds(0).getPort()).isEqualTo(80);
            }),
        new Case("reachableServices narrows transparent proxying", List.of(yaml("""
            type: Dataplane
            mesh: default
            name: tp-1
            networking:
              address: 10.0.0.5
              inbound:
                - port: 8080
                  tags: {kuma.io/service: web}
              transparentProxying:
                redirectPortInbound: 15006
                redirectPortOutbound: 15001
                reachableServices: [backend]
            """), backend("backend-1", "10.0.1.1", "v1"), backend("other-1", "10.0.1.2", "v1")),
            "tp-1", v -> assertThat(v.getOutboundsList()).extracting(OutboundView::getService)
                .containsExactly("backend")),
        new Case("an ExternalService is an external outbound with its address as endpoint", List.of(yaml("""
            type: Dataplane
            mesh: default
            name: tp-1
            networking:
              address: 10.0.0.5
              inbound:
                - port: 8080
                  tags: {kuma.io/service: web}
              transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
            """), yaml("""
            type: ExternalService
            mesh: default
            name: httpbin
            tags: {kuma.io/service: httpbin, kuma.io/protocol: http}
            networking: {address: httpbin.org:443, tls: {enabled: true}}
            """)), "tp-1", v -> {
              OutboundView out = v.getOutboundsList().stream().filter(o -> o.getService().equals("httpbin"))
                  .findFirst().orElseThrow();
              assertThat(out.getExternal()).isTrue();
              assertThat(out.getExternalServiceJson()).contains("httpbin.org:443");
              assertThat(out.getEndpoints(0).getAddress()).isEqualTo("httpbin.org");
              assertThat(out.getEndpoints(0).getPort()).isEqualTo(443);
            }),
        new Case("builtin gateway gets its MeshGateway, routes and referenced secrets", List.of(
            Dataplanes.builder().name("edge-1").gatewayBuiltin("edge").build(),
            Policies.meshGatewayHttps("default", "edge-gw", "edge", 8443, "edge-cert"),
            Policies.secret("default", "edge-cert", "PEM DATA"),
            Policies.secret("default", "unrelated", "x"),
            Policies.gatewayHttpRoute("default", "api", "edge-gw", "/api", "backend")),
            "edge-1", v -> {
              assertThat(v.getGateway().getMeshGatewayJson()).contains("\"name\":\"edge-gw\"");
              assertThat(v.getGateway().getListeners(0).getPort()).isEqualTo(8443);
              assertThat(v.getGateway().getListeners(0).getProtocol()).isEqualTo("HTTPS");
              assertThat(v.getGateway().getRouteJsonsList()).hasSize(1);
              assertThat(v.getGateway().getSecretsMap()).containsOnlyKeys("edge-cert");
              assertThat(v.getGateway().getSecretsMap().get("edge-cert").toStringUtf8()).isEqualTo("PEM DATA");
              assertThat(applied(v.getGateway().getListeners(0).getRulesList(), "MeshHTTPRoute"))
                  .containsExactly("api");
              // the route's backend, so that xds-service can build its cluster and endpoints
              assertThat(v.getOutboundsList()).extracting(OutboundView::getService).containsExactly("backend");
            }),
        new Case("MeshGateway targetRef beats MeshSubset on a gateway", List.of(
            Dataplanes.builder().name("edge-1").gatewayBuiltin("edge").tag("zone", "a").build(),
            Policies.meshGateway("default", "edge-gw", "edge", 8080),
            yaml("""
                type: MeshTimeout
                mesh: default
                name: a-gw
                spec:
                  targetRef: {kind: MeshGateway, name: edge-gw}
                  to:
                    - targetRef: {kind: Mesh}
                      default: {idleTimeout: 7s}
                """), yaml("""
                type: MeshTimeout
                mesh: default
                name: b-subset
                spec:
                  targetRef: {kind: MeshSubset, tags: {zone: a}}
                  to:
                    - targetRef: {kind: Mesh}
                      default: {idleTimeout: 1s}
                """)), "edge-1", v -> assertThat(conf(v.getGateway().getListeners(0).getRulesList(),
                    "MeshTimeout", Map.of()).path("idleTimeout").asText()).isEqualTo("7s")),
        new Case("key-auth on the gateway is carried with its key secrets", List.of(
            Dataplanes.builder().name("edge-1").gatewayBuiltin("edge").build(),
            Policies.meshGateway("default", "edge-gw", "edge", 8080),
            Policies.meshGatewayKeyAuth("default", "keys", "edge-gw", "alice", "s3cret")),
            "edge-1", v -> assertThat(v.getGateway().getKeyAuthJson()).contains("alice")),
        new Case("rules[] entries are proxy-wide rules", List.of(web(), yaml("""
            type: MeshTimeout
            mesh: default
            name: inbound-wide
            spec:
              targetRef: {kind: Mesh}
              rules:
                - default: {idleTimeout: 33s}
            """)), "web-1", v -> {
              assertThat(conf(v.getProxyRulesList(), "MeshTimeout", Map.of()).path("idleTimeout").asText())
                  .isEqualTo("33s");
              assertThat(conf(v.getInbounds(0).getRulesList(), "MeshTimeout", ORDERS).path("idleTimeout").asText())
                  .isEqualTo("33s");
            }),
        new Case("the view carries the Dataplane, the Mesh and mTLS state", List.of(MTLS, web()),
            "web-1", v -> {
              assertThat(v.getMtlsEnabled()).isTrue();
              assertThat(v.getMeshJson()).contains("ca-1");
              assertThat(v.getDataplaneJson()).contains("\"name\":\"web-1\"");
              assertThat(v.getInbounds(0).getServicePort()).isEqualTo(8080);
              assertThat(v.getInbounds(0).getServiceAddress()).isEqualTo("127.0.0.1");
              assertThat(v.getRevision()).hasSize(64);
            }));
  }
}
