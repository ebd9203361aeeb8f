package io.trellis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.trellis.e2e.harness.Await;
import io.trellis.e2e.harness.ControlPlane;
import io.trellis.e2e.harness.Processes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 6, Kuma's builtin gateway demo with the real services: policy-service, ca-service, xds-service,
 * a gateway-proxy serving the builtin gateway Dataplane {@code edge-gateway-1}, and a second
 * gateway-proxy as the sidecar of {@code demo-app} (mTLS termination + RBAC in front of a local HTTP app).
 * Every change is made through policy-service's REST API; the tests run in order, each building on the
 * previous state, as a user following the demo would.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayDemoE2E {
  static final Duration PROPAGATION = Duration.ofSeconds(20);
  static final String KEY = "e2e-alice-secret-key";
  static final ObjectMapper JSON = new ObjectMapper();

  static ControlPlane cp;
  static HttpServer demoApp;
  static final AtomicInteger appRequests = new AtomicInteger();
  static final AtomicReference<String> lastConsumer = new AtomicReference<>();
  static final AtomicReference<String> lastApiKey = new AtomicReference<>();
  static int gatewayPort;
  static int sidecarInbound;
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    cp = ControlPlane.start("GatewayDemoE2E");
    demoApp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    demoApp.createContext("/", ex -> {
      appRequests.incrementAndGet();
      lastConsumer.set(ex.getRequestHeaders().getFirst("X-Consumer-Username"));
      lastApiKey.set(ex.getRequestHeaders().getFirst("apikey"));
      byte[] body = ("demo-app: " + ex.getRequestMethod() + " " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/plain");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    demoApp.start();
    int appPort = demoApp.getAddress().getPort();
    sidecarInbound = Processes.freePort();
    gatewayPort = Processes.freePort();

    cp.put("/meshes/default", """
        {"type":"Mesh","name":"default","mtls":{"enabledBackend":"ca-1","backends":[{"name":"ca-1","type":"builtin"}]}}""");
    cp.put("/meshes/default/dataplanes/demo-app-1", """
        {"type":"Dataplane","mesh":"default","name":"demo-app-1","networking":{"address":"127.0.0.1",
         "inbound":[{"port":%d,"serviceAddress":"127.0.0.1","servicePort":%d,
                     "tags":{"kuma.io/service":"demo-app","kuma.io/protocol":"http"}}]}}""".formatted(sidecarInbound, appPort));
    cp.put("/meshes/default/dataplanes/edge-gateway-1", """
        {"type":"Dataplane","mesh":"default","name":"edge-gateway-1","networking":{"address":"127.0.0.1",
         "gateway":{"type":"BUILTIN","tags":{"kuma.io/service":"edge-gateway"}}}}""");
    cp.put("/meshes/default/meshgateways/edge-gateway", """
        {"type":"MeshGateway","mesh":"default","name":"edge-gateway",
         "selectors":[{"match":{"kuma.io/service":"edge-gateway"}}],
         "conf":{"listeners":[{"port":%d,"protocol":"HTTP","tags":{"port":"http-%d"}}]}}""".formatted(gatewayPort, gatewayPort));
    cp.put("/meshes/default/meshhttproutes/edge-gateway-route", """
        {"type":"MeshHTTPRoute","mesh":"default","name":"edge-gateway-route","spec":{
          "targetRef":{"kind":"MeshGateway","name":"edge-gateway"},
          "to":[{"targetRef":{"kind":"Mesh"},"rules":[{
            "matches":[{"path":{"type":"PathPrefix","value":"/api"}}],
            "default":{"backendRefs":[{"kind":"MeshService","name":"demo-app"}]}}]}]}}""");

    startProxy("gateway-proxy-sidecar", "default", "demo-app-1");
    startProxy("gateway-proxy-edge", "default", "edge-gateway-1");
  }

  /** A gateway-proxy process for one Dataplane, authenticated with a dataplane token from ca-service. */
  static void startProxy(String logName, String mesh, String dataplane) {
    int admin = Processes.freePort();
    var p = cp.processes.start(logName, "gateway-proxy", Map.of(
        "trellis.gateway.admin-port", String.valueOf(admin),
        "trellis.gateway.xds-address", cp.xdsAddress(),
        "trellis.gateway.node-id", mesh + "." + dataplane,
        "trellis.gateway.dataplane-token-file", cp.dataplaneTokenFile(mesh, dataplane).toString(),
        "trellis.gateway.event-loop-threads", "1"), Map.of());
    Processes.awaitReady(p, URI.create("http://127.0.0.1:" + admin + "/ready"), Duration.ofSeconds(90));
  }

  @AfterAll
  static void stop() {
    if (demoApp != null) {
      demoApp.stop(0);
    }
    if (cp != null) {
      cp.close();
    }
  }

  static HttpResponse<String> get(String path, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + path))
        .timeout(Duration.ofSeconds(10));
    headers.forEach(b::header);
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("GET " + path + ": " + e, e);
    }
  }

  /** Waits until the gateway answers {@code path} with {@code status}; returns that response. */
  static HttpResponse<String> awaitStatus(String path, Map<String, String> headers, int status, String why) {
    AtomicReference<HttpResponse<String>> last = new AtomicReference<>();
    try {
      Await.until(PROPAGATION, why + ": GET " + path + " -> " + status, () -> {
        last.set(get(path, headers));
        return last.get().statusCode() == status;
      });
    } catch (AssertionError e) {
      HttpResponse<String> r = last.get();
      throw new AssertionError(e.getMessage() + "; last answer: " + (r == null ? "none" : r.statusCode() + " " + r.body())
          + cp.logs(List.of("xds-service", "gateway-proxy-edge", "gateway-proxy-sidecar")), e);
    }
    return last.get();
  }

  @Test
  @Order(1)
  void mtlsWithoutPermissionIsDeniedBySidecarRbac() {
    int before = appRequests.get();
    HttpResponse<String> r = awaitStatus("/api/counter", Map.of(), 403, "mTLS on, no MeshTrafficPermission");
    assertThat(r.body()).isEqualTo("RBAC: access denied");
    assertThat(r.headers().firstValue("x-trellis-request-id")).isPresent();
    assertThat(appRequests.get()).as("demo-app must not be reached").isEqualTo(before);
    // denied by the sidecar's RBAC, for the identity the gateway presented over mTLS
    Await.until(Duration.ofSeconds(5), "the sidecar logs the denied request of spiffe://default/edge-gateway", () ->
        cp.log("gateway-proxy-sidecar").lines().anyMatch(l -> l.contains("\"status\":403")
            && l.contains("\"peer\":\"spiffe://default/edge-gateway\"")));
  }

  @Test
  @Order(2)
  void permissionForTheGatewayLetsRequestsThrough() {
    cp.put("/meshes/default/meshtrafficpermissions/allow-edge-gateway", """
        {"type":"MeshTrafficPermission","mesh":"default","name":"allow-edge-gateway","spec":{
          "targetRef":{"kind":"MeshService","name":"demo-app"},
          "from":[{"targetRef":{"kind":"MeshSubset","tags":{"kuma.io/service":"edge-gateway"}},
                   "default":{"action":"Allow"}}]}}""");
    HttpResponse<String> r = awaitStatus("/api/counter", Map.of(), 200, "after MeshTrafficPermission allowing edge-gateway");
    assertThat(r.body()).isEqualTo("demo-app: GET /api/counter");
    assertThat(r.headers().firstValue("x-trellis-upstream-latency")).isPresent();
    assertThat(r.headers().firstValue("x-trellis-proxy-latency")).isPresent();
  }

  @Test
  @Order(3)
  void theSidecarServesOnlyMeshMtls() {
    // Allowing the gateway's identity must not open the inbound to a caller without a mesh certificate.
    int before = appRequests.get();
    HttpRequest plain = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecarInbound + "/api/counter"))
        .timeout(Duration.ofSeconds(5)).build();
    Integer status;
    try {
      status = http.send(plain, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception refused) {
      status = null;
    }
    assertThat(status).as("plain HTTP to the sidecar's mTLS inbound").isNull();
    assertThat(appRequests.get()).isEqualTo(before);
  }

  @Test
  @Order(4)
  void noRouteIsA404JsonMessage() throws Exception {
    HttpResponse<String> r = get("/not-routed", Map.of());
    assertThat(r.statusCode()).isEqualTo(404);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("message").asText()).isEqualTo("no Route matched with those values");
    assertThat(body.path("request_id").asText()).isNotEmpty()
        .isEqualTo(r.headers().firstValue("x-trellis-request-id").orElse(null));
  }

  @Test
  @Order(5)
  void keyAuthRequiresTheConsumersKey() throws Exception {
    cp.put("/meshes/default/secrets/alice-key", """
        {"type":"Secret","mesh":"default","name":"alice-key","data":"%s"}"""
        .formatted(Base64.getEncoder().encodeToString(KEY.getBytes(StandardCharsets.UTF_8))));
    cp.put("/meshes/default/meshgatewaykeyauths/edge-keys", """
        {"type":"MeshGatewayKeyAuth","mesh":"default","name":"edge-keys","spec":{
          "targetRef":{"kind":"MeshGateway","name":"edge-gateway"},
          "default":{"keyNames":["apikey"],"hideCredentials":true},
          "consumers":[{"username":"alice","keys":[{"secret":"alice-key"}]}]}}""");
    HttpResponse<String> missing = awaitStatus("/api/counter", Map.of(), 401, "key-auth on, no key");
    assertThat(JSON.readTree(missing.body()).path("message").asText()).isEqualTo("No API key found in request");
    assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Key realm=\"trellis\"");

    HttpResponse<String> wrong = get("/api/counter", Map.of("apikey", "not-the-key"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(wrong.body()).path("message").asText()).isEqualTo("Invalid authentication credentials");

    HttpResponse<String> ok = get("/api/counter", Map.of("apikey", KEY));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("demo-app: GET /api/counter");
    assertThat(lastConsumer.get()).as("consumer name sent upstream").isEqualTo("alice");
    assertThat(lastApiKey.get()).as("hideCredentials strips the key").isNull();
  }
}
