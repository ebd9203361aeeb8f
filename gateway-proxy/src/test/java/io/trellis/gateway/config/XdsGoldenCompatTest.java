package io.trellis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.trellis.gateway.testing.Goldens;
import io.trellis.gateway.testing.Pki;
import io.trellis.gateway.testing.Xds;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * xds-service's golden resource sets, read from that module's test resources, go through gateway-proxy's
 * translator: the ones the gateway must serve are accepted (the ADS client would ACK them) with nothing left
 * warming, and mean what xds-service meant; the ones using features the gateway does not implement are
 * refused (NACK) naming the field, never half-applied.
 */
class XdsGoldenCompatTest {
  static Pki mesh;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void ca() throws Exception {
    mesh = new Pki("mesh-ca", Pki.Alg.EC);
  }

  static GatewayConfig translate(String golden) {
    Xds.Set set = Goldens.withTestSecrets(Goldens.load(golden), mesh, Map.of());
    return XdsTranslator.translate(set.resources());
  }

  static Xds.Set raw(String golden) {
    return Goldens.load(golden);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "golden/mtls-permissions.yaml",
      "golden/plain-sidecar.yaml",
      "gateway/http-https-vhosts.yaml",
      "gateway/tls-passthrough.yaml",
      "meshhttproute/sidecar.yaml",
      "meshtcproute/sidecar.yaml",
      "meshtimeout/sidecar.yaml",
      "meshretry/sidecar.yaml",
      "meshaccesslog/sidecar.yaml",
      "meshhealthcheck/sidecar.yaml",
      "meshcircuitbreaker/sidecar.yaml",
      "meshfaultinjection/sidecar.yaml",
      "meshratelimit/sidecar.yaml",
      "golden/transparent-proxying.yaml",
  })
  void acceptedWithEveryListenerAndClusterAndNothingWarming(String golden) throws Exception {
    Xds.Set set = raw(golden);
    GatewayConfig cfg = translate(golden);
    JsonNode dump = JSON.readTree(cfg.dump());
    assertThat(dump.path("warming")).as("nothing left warming").isEmpty();
    assertThat(cfg.listeners().keySet()).containsExactlyInAnyOrderElementsOf(
        set.all().stream().filter(m -> m instanceof io.envoyproxy.envoy.config.listener.v3.Listener)
            .map(m -> ((io.envoyproxy.envoy.config.listener.v3.Listener) m).getName()).toList());
    assertThat(cfg.clusters().keySet()).containsExactlyInAnyOrderElementsOf(
        set.all().stream().filter(m -> m instanceof io.envoyproxy.envoy.config.cluster.v3.Cluster)
            .map(m -> ((io.envoyproxy.envoy.config.cluster.v3.Cluster) m).getName()).toList());
  }

  /** Known gaps, pinned so a change on either side shows up here (and in the report), not in production. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "golden/proxyless-grpc.yaml | Cluster greeter.transport_socket.common_tls_context.validation_context.trusted_ca: missing (expected: PEM CA certificates)",
  })
  void refusedNamingTheField(String golden, String message) {
    assertThatThrownBy(() -> translate(golden)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  static RbacSpec.Peer peer(String... uris) {
    return new RbacSpec.Peer(List.of(uris), true);
  }

  @Test
  void sidecarWithMtlsAndPermissionsMeansWhatXdsServiceMeant() {
    GatewayConfig cfg = translate("golden/mtls-permissions.yaml");
    ListenerSpec http = cfg.listeners().get("inbound:10.0.0.1:8080");
    assertThat(http.inspectTls()).isTrue();
    assertThat(http.select(null, false)).as("plaintext to an mTLS inbound finds no chain").isNull();
    FilterChainSpec in = http.select("web", true);
    assertThat(in.tls()).isNotNull();
    assertThat(in.mtls()).isTrue();
    RbacSpec rbac = in.http().rbac();
    assertThat(rbac.permits(peer("spiffe://default/frontend"))).isTrue();
    assertThat(rbac.permits(peer("spiffe://default/frontend", "kuma://version/canary"))).as("shadowed by the deny").isFalse();
    assertThat(rbac.permits(peer("spiffe://default/ops", "kuma://team/ops"))).isTrue();
    assertThat(rbac.permits(peer("spiffe://default/payments"))).isFalse();
    assertThat(rbac.permits(RbacSpec.Peer.ANONYMOUS)).isFalse();
    assertThat(in.http().routes().match("anything", get("/x"), "/x").route().pickCluster()).isEqualTo("localhost:8080");
    assertThat(cfg.clusters().get("localhost:8080").tls()).as("the local app is plain").isNull();

    FilterChainSpec tcpIn = cfg.listeners().get("inbound:10.0.0.1:9090").select(null, true);
    assertThat(tcpIn.mtls()).isTrue();
    assertThat(tcpIn.tcp().rbac().permits(peer("spiffe://default/frontend")))
        .as("rules: {} with no policies allows nobody").isFalse();

    FilterChainSpec out = cfg.listeners().get("outbound:127.0.0.1:10001").select(null, false);
    assertThat(out.tls()).isNull();
    assertThat(out.http().routes().match("backend", get("/"), "/").route().pickCluster()).isEqualTo("backend");
    UpstreamCluster backend = cfg.clusters().get("backend");
    assertThat(backend.tls()).as("outbound goes out over mTLS").isNotNull();
    assertThat(backend.sni()).isEqualTo("backend");
    assertThat(backend.endpoints()).extracting(a -> a.getHostString() + ":" + a.getPort()).containsExactly("10.0.0.2:8080");
    FilterChainSpec tcpOut = cfg.listeners().get("outbound:127.0.0.1:10002").select(null, false);
    assertThat(tcpOut.tcp().pickCluster()).isEqualTo("db");
    assertThat(cfg.clusters().get("db").tls()).isNotNull();
  }

  @Test
  void meshRateLimitBecomesTokenBucketsOnTheInbounds() {
    GatewayConfig cfg = translate("meshratelimit/sidecar.yaml");
    FilterChainSpec.HttpSpec http = cfg.listeners().get("inbound:10.0.0.1:8080").select(null, false).http();
    LocalRateLimitSpec rl = http.rateLimit();
    assertThat(rl.status()).isEqualTo(429);
    assertThat(rl.responseHeaders()).containsExactly(new LocalRateLimitSpec.Header("x-limited", "true", false));
    assertThat(rl.enabledPerMillion()).isEqualTo(1_000_000);
    assertThat(rl.enforcedPerMillion()).isEqualTo(1_000_000);
    assertThat(rl.bucket()).hasToString("100 max, +100 per 10000ms");
    FilterChainSpec.TcpSpec tcp = cfg.listeners().get("inbound:10.0.0.1:5432").select(null, false).tcp();
    assertThat(tcp.connectionRate()).hasToString("5 max, +5 per 1000ms");
    assertThat(tcp.pickCluster()).isEqualTo("localhost:5432");
  }

  @Test
  void meshCircuitBreakerBecomesTheClustersLimitsAndOutlierDetection() {
    UpstreamCluster backend = translate("meshcircuitbreaker/sidecar.yaml").clusters().get("backend");
    assertThat(backend.maxInFlight()).as("min(max_requests 16, max_connections 2 + max_pending_requests 8)").isEqualTo(10);
    OutlierSpec o = backend.outlier();
    assertThat(o.consecutive5xx()).isEqualTo(new OutlierSpec.Consecutive(10, 100));
    assertThat(o.consecutiveGatewayFailure().on()).isFalse();
    assertThat(o.consecutiveLocalOriginFailure().on()).isFalse();
    assertThat(o.intervalMillis()).isEqualTo(5_000);
    assertThat(o.baseEjectionMillis()).isEqualTo(30_000);
    assertThat(o.maxEjectionMillis()).as("Envoy's default max_ejection_time").isEqualTo(300_000);
    assertThat(o.maxEjectionPercent()).isEqualTo(20);
    assertThat(o.successRate()).as("Kuma's successRate detector: volume 10, Envoy's defaults otherwise")
        .isEqualTo(new OutlierSpec.SuccessRate(100, 100, 5, 10, 1900));
    assertThat(o.failurePercentage().enforcing()).isZero();
  }

  @Test
  void meshHealthCheckBecomesActiveHttpAndTcpChecks() {
    GatewayConfig cfg = translate("meshhealthcheck/sidecar.yaml");
    HealthCheckSpec http = cfg.clusters().get("backend").healthCheck();
    assertThat(http.signature()).isEqualTo("10000/2000/3/1 http backend/health 200-201 204-205");
    assertThat(http.http().expected(200)).isTrue();
    assertThat(http.http().expected(204)).isTrue();
    assertThat(http.http().expected(201)).as("ranges are [start, end)").isFalse();
    HealthCheckSpec tcp = cfg.clusters().get("db").healthCheck();
    assertThat(new String(tcp.tcp().send(), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ping");
    assertThat(tcp.tcp().receive()).singleElement()
        .satisfies(b -> assertThat(new String(b, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("pong"));
    assertThat(tcp.intervalMillis()).isEqualTo(5000);
    assertThat(tcp.unhealthyThreshold()).isEqualTo(5);
  }

  @Test
  void meshFaultInjectionBecomesAbortAndDelayInFilterOrder() throws Exception {
    GatewayConfig cfg = translate("meshfaultinjection/sidecar.yaml");
    ListenerSpec in = cfg.listeners().values().stream().filter(l -> l.name().startsWith("inbound:")).findFirst()
        .orElseThrow();
    assertThat(in.select(null, false).http().faults()).containsExactly(
        new FaultSpec(503, 125_000, 0, 0),
        new FaultSpec(0, 0, 5_000_000_000L, 500_000));
    assertThat(JSON.readTree(cfg.dump()).path("ignored_filters").toString())
        .as("response bandwidth is not enforced and says so").contains("envoy.filters.http.fault.response_rate_limit");
  }

  @Test
  void gatewayListenersChooseCertificatesBySniAndRoutesByHost() {
    GatewayConfig cfg = translate("gateway/http-https-vhosts.yaml");
    ListenerSpec https = cfg.listeners().get("gateway:edge:8443");
    assertThat(https.select("shop.example.com", true).name()).isEqualTo("shop.example.com");
    assertThat(https.select("api.example.com", true).name()).isEqualTo("*.example.com");
    assertThat(https.select("example.org", true)).isNull();
    assertThat(https.select("api.example.com", true).http().keyAuth().consumers())
        .extracting(KeyAuthSpec.Consumer::username).containsExactly("alice", "bob");
    FilterChainSpec plain = cfg.listeners().get("gateway:edge:8080").select(null, false);
    RouteTable rt = plain.http().routes();
    assertThat(rt.match("api.example.com", get("/api/v1"), "/api/v1").route().pickCluster()).isEqualTo("backend");
    assertThat(rt.match("api.example.com", get("/apiary"), "/apiary")).as("path_separated_prefix").isNull();
    assertThat(rt.match("other.example.com", get("/cart"), "/cart").route().name()).isEqualTo("shop-route-0");
  }

  @Test
  void passthroughListenersRouteByServerNameWithoutTerminating() {
    GatewayConfig cfg = translate("gateway/tls-passthrough.yaml");
    ListenerSpec pg = cfg.listeners().get("gateway:tls-edge:5432");
    assertThat(pg.inspectTls()).isTrue();
    FilterChainSpec db = pg.select("db.example.com", true);
    assertThat(db.tls()).as("not terminated").isNull();
    assertThat(db.tcp().pickCluster()).isEqualTo("pg");
    assertThat(pg.select("www.example.com", true).tcp().pickCluster()).isEqualTo("web-tls");
    assertThat(pg.select("db.example.org", true)).isNull();
    assertThat(cfg.listeners().get("gateway:tls-edge:9000").select(null, false).tcp().pickCluster()).isEqualTo("raw");
  }

  static DefaultHttpRequest get(String uri) {
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
  }
}
