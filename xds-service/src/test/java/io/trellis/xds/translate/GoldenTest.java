package io.trellis.xds.translate;

import static io.trellis.xds.testing.Views.conf;
import static io.trellis.xds.testing.Views.endpoint;
import static io.trellis.xds.testing.Views.rules;
import static io.trellis.xds.testing.Views.subset;

import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.model.Resource;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Golden;
import io.trellis.xds.testing.Views;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Full resource sets of representative proxies against golden YAML (-DupdateGolden=true rewrites). */
class GoldenTest {
  static final Resource MESH = Meshes.defaultMesh();
  static final Resource MTLS_MESH = Meshes.builder().builtinMtls("ca-1").build();
  static final SecretTranslator.Identity IDENTITY = new SecretTranslator.Identity(
      "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
      "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
      "-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n");

  static Resource web() {
    return Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http").tag("version", "v1").build();
  }

  static Views.Builder sidecar(Resource mesh) {
    return Views.of(web(), mesh)
        .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1"),
            endpoint("10.0.0.3", 8080, "version", "v2"))
        .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432));
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        c("plain sidecar", "golden/plain-sidecar.yaml", false, () -> sidecar(MESH).build()),
        c("mTLS + permissions", "golden/mtls-permissions.yaml", false, () -> Views.of(
                Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http")
                    .inbound(9090, "web-admin").build(), MTLS_MESH)
            .inboundRules(8080, rules("MeshTrafficPermission",
                subset("{\"action\":\"Deny\"}", "kuma.io/service", "frontend", "version", "canary"),
                subset("{\"action\":\"Allow\"}", "kuma.io/service", "frontend"),
                subset("{\"action\":\"AllowWithShadowDeny\"}", "team", "ops")))
            .inboundRules(9090, rules("MeshTrafficPermission", conf("{\"action\":\"Deny\"}")))
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432))
            .build()),
        c("transparent proxying", "golden/transparent-proxying.yaml", false, () -> Views.of(
                Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http")
                    .transparentProxying(15006, 15001).build(), MTLS_MESH)
            .inboundRules(8080, rules("MeshTrafficPermission", conf("{\"action\":\"Allow\"}")))
            .outbound("backend", "http", "240.0.0.1", 80, endpoint("10.0.0.2", 8080))
            .outbound("db", "tcp", "240.0.0.2", 5432, endpoint("10.0.0.4", 5432))
            .build()),
        c("proxyless gRPC client with mTLS", "golden/proxyless-grpc.yaml", true, () -> Views.of(
                Dataplanes.builder().name("client-1").address("10.0.0.9").inbound(50051, "greeter").protocol("grpc").build(),
                MTLS_MESH)
            .inboundRules(50051, rules("MeshTrafficPermission", subset("{\"action\":\"Allow\"}", "kuma.io/service", "client")))
            .outbound("greeter", "grpc", "127.0.0.1", 10003, endpoint("10.0.0.5", 50051), endpoint("10.0.0.6", 50051))
            .build()),
        c("MeshTimeout", "meshtimeout/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .inboundRules(8080, rules("MeshTimeout", conf("{\"idleTimeout\":\"20s\",\"http\":{\"requestTimeout\":\"2s\"}}")))
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
            .outboundRules(rules("MeshTimeout", conf("{\"connectionTimeout\":\"1s\",\"idleTimeout\":\"30s\","
                + "\"http\":{\"requestTimeout\":\"5s\",\"streamIdleTimeout\":\"10s\",\"maxStreamDuration\":\"1m\"}}")))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432))
            .outboundRules(rules("MeshTimeout", conf("{\"idleTimeout\":\"5m\"}")))
            .build()),
        c("MeshRetry", "meshretry/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
            .outboundRules(rules("MeshRetry", conf("{\"http\":{\"numRetries\":3,\"perTryTimeout\":\"1s\","
                + "\"backOff\":{\"baseInterval\":\"100ms\",\"maxInterval\":\"1s\"},\"retryOn\":[\"5XX\",\"503\",\"ConnectFailure\"]}}")))
            .outbound("greeter", "grpc", "127.0.0.1", 10003, endpoint("10.0.0.5", 50051))
            .outboundRules(rules("MeshRetry", conf("{\"grpc\":{\"numRetries\":2,\"retryOn\":[\"Unavailable\",\"DeadlineExceeded\"]}}")))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432))
            .outboundRules(rules("MeshRetry", conf("{\"tcp\":{\"maxConnectAttempt\":5}}")))
            .build()),
        c("MeshCircuitBreaker", "meshcircuitbreaker/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
            .outboundRules(rules("MeshCircuitBreaker", conf("{\"connectionLimits\":{\"maxConnections\":2,"
                + "\"maxPendingRequests\":8,\"maxRequests\":16,\"maxRetries\":3},\"outlierDetection\":{\"interval\":\"5s\","
                + "\"baseEjectionTime\":\"30s\",\"maxEjectionPercent\":20,\"detectors\":{\"totalFailures\":{\"consecutive\":10},"
                + "\"successRate\":{\"minimumHosts\":5,\"requestVolume\":10,\"standardDeviationFactor\":\"1.9\"}}}}")))
            .build()),
        c("MeshHealthCheck", "meshhealthcheck/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
            .outboundRules(rules("MeshHealthCheck", conf("{\"interval\":\"10s\",\"timeout\":\"2s\",\"unhealthyThreshold\":3,"
                + "\"healthyThreshold\":1,\"http\":{\"path\":\"/health\",\"expectedStatuses\":[200,204]}}")))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432))
            .outboundRules(rules("MeshHealthCheck", conf("{\"interval\":\"5s\",\"tcp\":{\"send\":\"cGluZw==\",\"receive\":[\"cG9uZw==\"]}}")))
            .build()),
        c("MeshRateLimit", "meshratelimit/sidecar.yaml", false, () -> Views.of(
                Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http")
                    .inbound(5432, "pg").build(), MESH)
            .inboundRules(8080, rules("MeshRateLimit", conf("{\"local\":{\"http\":{\"requestRate\":{\"num\":100,\"interval\":\"10s\"},"
                + "\"onRateLimit\":{\"status\":429,\"headers\":{\"add\":[{\"name\":\"x-limited\",\"value\":\"true\"}]}}}}}")))
            .inboundRules(5432, rules("MeshRateLimit", conf("{\"local\":{\"tcp\":{\"connectionRate\":{\"num\":5,\"interval\":\"1s\"}}}}")))
            .build()),
        c("MeshFaultInjection", "meshfaultinjection/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .inboundRules(8080, rules("MeshFaultInjection", conf("{\"http\":[{\"abort\":{\"httpStatus\":503,\"percentage\":\"12.5\"}},"
                + "{\"delay\":{\"value\":\"5s\",\"percentage\":50},\"responseBandwidth\":{\"limit\":\"10mbps\",\"percentage\":100}}]}")))
            .build()),
        c("MeshHTTPRoute", "meshhttproute/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1"),
                endpoint("10.0.0.3", 8080, "version", "v2"))
            .outboundRules(rules("MeshHTTPRoute", conf("{\"rules\":[{\"matches\":[{\"path\":{\"type\":\"PathPrefix\",\"value\":\"/api\"},"
                + "\"method\":\"GET\",\"headers\":[{\"type\":\"Exact\",\"name\":\"x-canary\",\"value\":\"1\"}]}],"
                + "\"default\":{\"backendRefs\":[{\"kind\":\"MeshServiceSubset\",\"name\":\"backend\",\"tags\":{\"version\":\"v2\"},\"weight\":90},"
                + "{\"kind\":\"MeshServiceSubset\",\"name\":\"backend\",\"tags\":{\"version\":\"v1\"},\"weight\":10}],"
                + "\"filters\":[{\"type\":\"RequestHeaderModifier\",\"requestHeaderModifier\":{\"set\":[{\"name\":\"x-route\",\"value\":\"canary\"}],"
                + "\"remove\":[\"x-debug\"]}}]}},"
                + "{\"matches\":[{\"path\":{\"type\":\"Exact\",\"value\":\"/health\"}}],\"default\":{}}]}")))
            .build()),
        c("MeshTCPRoute", "meshtcproute/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432, "role", "primary"),
                endpoint("10.0.0.5", 5432, "role", "replica"))
            .outboundRules(rules("MeshTCPRoute", conf("{\"rules\":[{\"default\":{\"backendRefs\":["
                + "{\"kind\":\"MeshServiceSubset\",\"name\":\"db\",\"tags\":{\"role\":\"primary\"},\"weight\":80},"
                + "{\"kind\":\"MeshServiceSubset\",\"name\":\"db\",\"tags\":{\"role\":\"replica\"},\"weight\":20}]}}]}")))
            .build()),
        c("MeshAccessLog", "meshaccesslog/sidecar.yaml", false, () -> Views.of(web(), MESH)
            .proxyRules(rules("MeshAccessLog", conf("{\"backends\":[{\"file\":{\"path\":\"/dev/stdout\"}}]}")))
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
            .outboundRules(rules("MeshAccessLog", conf("{\"backends\":[{\"file\":{\"path\":\"/tmp/access.log\",\"format\":"
                + "{\"type\":\"Json\",\"json\":[{\"key\":\"start\",\"value\":\"%START_TIME%\"},{\"key\":\"dst\",\"value\":\"%KUMA_DESTINATION_SERVICE%\"}]}}}]}")))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432))
            .build()));
  }

  static Arguments c(String name, String file, boolean proxyless, Supplier<ProxyView> view) {
    return Arguments.of(name, file, proxyless, view);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesGolden(String name, String file, boolean proxyless, Supplier<ProxyView> view) {
    ProxyView v = view.get();
    ProxyInput in = ProxyInput.of(v, proxyless ? ProxyInput.ClientKind.GRPC : ProxyInput.ClientKind.ENVOY, Views.CODEC);
    XdsResources resources = ProxyTranslator.translate(in, v.getMtlsEnabled() ? IDENTITY : null);
    Golden.assertEnvoyValid(resources);
    Golden.assertMatches(file, Golden.yaml(resources));
  }
}
