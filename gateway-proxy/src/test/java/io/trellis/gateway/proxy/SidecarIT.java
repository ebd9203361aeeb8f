package io.trellis.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Goldens;
import io.trellis.gateway.testing.Pki;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sidecar mode with the resources xds-service generates ({@code golden/mtls-permissions.yaml}, moved to
 * local ports, real certificates from a test mesh CA in place of the placeholders): a client sidecar's
 * outbound listeners take plain HTTP/TCP from the app and go out over mTLS, verifying the upstream's SPIFFE
 * ID; the server sidecar's inbound listeners terminate mTLS, apply the MeshTrafficPermission RBAC to the
 * client's identity and forward to the local app. Every hop is a real socket and a real TLS handshake.
 */
class SidecarIT {
  static final String GOLDEN = "golden/mtls-permissions.yaml";
  static final String IDENTITY = "identity_cert:secret:default";
  static Pki mesh;
  static EchoServer app;
  static final List<DataPlane> planes = new ArrayList<>();
  /** The "web" sidecar's inbound ports (HTTP, TCP); the golden's 10.0.0.1:8080 and :9090. */
  static int inHttp;
  static int inTcp;
  /** Outbound ports (HTTP to backend, TCP to db) of client sidecars by identity. */
  static final Map<String, int[]> outbound = new HashMap<>();

  @TempDir
  static Path tmp;

  static InetSocketAddress local(int port) {
    return new InetSocketAddress("127.0.0.1", port);
  }

  /** The golden for one sidecar: its identity, its listeners on fresh ports, its upstreams as given. */
  static Xds.Set sidecar(Pki.Issued identity, Map<String, InetSocketAddress> addresses) {
    Xds.Set set = Goldens.withTestSecrets(Goldens.load(GOLDEN), mesh, Map.of(IDENTITY, identity));
    return Goldens.remap(set, addresses);
  }

  static DataPlane start(Xds.Set set) {
    DataPlane dp = new DataPlane(new DataPlane.Options(1, 0, false, null), AdminServer.newRegistry());
    planes.add(dp);
    dp.apply(XdsTranslator.translate(set.resources()));
    return dp;
  }

  /**
   * A client sidecar whose outbound "backend" (HTTP) and "db" (TCP) endpoints are the server sidecar's
   * inbound listeners, as EDS would list them for a one-machine mesh.
   */
  static void client(String name, Pki.Issued identity) {
    int[] ports = {Xds.freePort(), Xds.freePort()};
    Map<String, InetSocketAddress> a = new HashMap<>();
    a.put("10.0.0.1:8080", local(Xds.freePort()));
    a.put("10.0.0.1:9090", local(Xds.freePort()));
    a.put("127.0.0.1:10001", local(ports[0]));
    a.put("127.0.0.1:10002", local(ports[1]));
    a.put("10.0.0.2:8080", local(inHttp));
    a.put("10.0.0.4:5432", local(inTcp));
    a.put("127.0.0.1:8080", app.address());
    a.put("127.0.0.1:9090", app.address());
    start(sidecar(identity, a));
    outbound.put(name, ports);
  }

  @BeforeAll
  static void startMesh() throws Exception {
    mesh = new Pki("mesh-ca", Pki.Alg.EC);
    app = new EchoServer("web-app");
    inHttp = Xds.freePort();
    inTcp = Xds.freePort();
    // The server side: the golden's own Dataplane ("web"), its app behind localhost:8080 and :9090.
    Map<String, InetSocketAddress> web = new HashMap<>();
    web.put("10.0.0.1:8080", local(inHttp));
    web.put("10.0.0.1:9090", local(inTcp));
    web.put("127.0.0.1:10001", local(Xds.freePort()));
    web.put("127.0.0.1:10002", local(Xds.freePort()));
    web.put("127.0.0.1:8080", app.address());
    web.put("127.0.0.1:9090", app.address());
    // Its upstream-facing certificate must carry the SPIFFE ID the clients' "backend"/"db" clusters expect.
    Pki.Issued webId = mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/backend", "spiffe://default/db"));
    start(sidecar(webId, web));

    client("frontend", mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/frontend", "kuma://version/v1")));
    client("canary", mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/frontend", "kuma://version/canary")));
    client("ops", mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/ops", "kuma://team/ops")));
    client("payments", mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/payments")));
    // A client whose "backend" endpoint presents an identity other than spiffe://default/backend.
    Pki.Issued impostor = mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/impostor"));
    int impostorIn = Xds.freePort();
    Map<String, InetSocketAddress> imp = new HashMap<>();
    imp.put("10.0.0.1:8080", local(impostorIn));
    imp.put("10.0.0.1:9090", local(Xds.freePort()));
    imp.put("127.0.0.1:10001", local(Xds.freePort()));
    imp.put("127.0.0.1:10002", local(Xds.freePort()));
    imp.put("127.0.0.1:8080", app.address());
    imp.put("127.0.0.1:9090", app.address());
    start(sidecar(impostor, imp));
    int[] ports = {Xds.freePort(), Xds.freePort()};
    Map<String, InetSocketAddress> victim = new HashMap<>();
    victim.put("10.0.0.1:8080", local(Xds.freePort()));
    victim.put("10.0.0.1:9090", local(Xds.freePort()));
    victim.put("127.0.0.1:10001", local(ports[0]));
    victim.put("127.0.0.1:10002", local(ports[1]));
    victim.put("10.0.0.2:8080", local(impostorIn));
    victim.put("10.0.0.4:5432", local(impostorIn));
    start(sidecar(mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/frontend")), victim));
    outbound.put("misrouted", ports);
  }

  @AfterAll
  static void stop() {
    planes.forEach(DataPlane::close);
    app.close();
  }

  static HttpResponse<String> viaOutbound(String client, String path) throws Exception {
    return Curl.get(outbound.get(client)[0], "backend", path);
  }

  @Test
  void anAllowedIdentityReachesTheAppThroughBothSidecars() throws Exception {
    HttpResponse<String> r = viaOutbound("frontend", "/hello");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("server=web-app", "request=GET /hello", "h:via=1.1 trellis, 1.1 trellis");
    assertThat(r.headers().firstValue("x-trellis-request-id")).isPresent();
    assertThat(r.headers().firstValue("x-trellis-upstream-latency")).isPresent();
  }

  @Test
  void permissionsFollowTheMeshTrafficPermissionRules() throws Exception {
    int before = app.requests.get();
    HttpResponse<String> canary = viaOutbound("canary", "/denied");
    assertThat(canary.statusCode()).as("Deny on frontend+version=canary beats the Allow on frontend").isEqualTo(403);
    assertThat(canary.body()).isEqualTo("RBAC: access denied");
    HttpResponse<String> payments = viaOutbound("payments", "/denied");
    assertThat(payments.statusCode()).isEqualTo(403);
    assertThat(payments.body()).isEqualTo("RBAC: access denied");
    assertThat(app.requests.get()).as("denied requests never reach the app").isEqualTo(before);
    assertThat(viaOutbound("ops", "/ops").statusCode()).as("AllowWithShadowDeny on team=ops").isEqualTo(200);
  }

  @Test
  void anUpstreamPresentingTheWrongSpiffeIdIsNotTalkedTo() throws Exception {
    int before = app.requests.get();
    HttpResponse<String> r = viaOutbound("misrouted", "/x");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(app.requests.get()).isEqualTo(before);
  }

  @Test
  void tcpOutboundGoesOverMtlsAndTheDenyAllInboundClosesIt() throws Exception {
    int before = app.requests.get();
    int port = outbound.get("frontend")[1];
    // The golden's 9090 inbound has "Deny" for everyone (network RBAC with no policies): the tunnel is closed.
    assertThatThrownBy(() -> Curl.get(port, "db", "/tcp")).hasMessageContaining("failed");
    assertThat(app.requests.get()).isEqualTo(before);
  }

  @Test
  void tcpThroughBothSidecarsWhenTheInboundAllowsTheClient() throws Exception {
    // The same golden with the HTTP inbound's Allow rules on the TCP inbound too, as xds-service renders an
    // Allow for 9090: now the bytes flow app → outbound → mTLS → inbound → app.
    int tcpIn = Xds.freePort();
    Map<String, InetSocketAddress> web = new HashMap<>();
    web.put("10.0.0.1:8080", local(Xds.freePort()));
    web.put("10.0.0.1:9090", local(tcpIn));
    web.put("127.0.0.1:10001", local(Xds.freePort()));
    web.put("127.0.0.1:10002", local(Xds.freePort()));
    web.put("127.0.0.1:8080", app.address());
    web.put("127.0.0.1:9090", app.address());
    Xds.Set set = sidecar(mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/db")), web);
    Listener http = Goldens.listeners(set).get("inbound:10.0.0.1:8080");
    var rules = HttpConnectionManager.parseFrom(http.getFilterChains(0).getFilters(0).getTypedConfig().getValue())
        .getHttpFilters(0).getTypedConfig().unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class).getRules();
    Listener tcp = Goldens.listeners(set).get("inbound:10.0.0.1:9090");
    FilterChain.Builder chain = tcp.getFilterChains(0).toBuilder();
    chain.setFilters(0, Filter.newBuilder().setName("envoy.filters.network.rbac").setTypedConfig(Any.pack(
        io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix("in").setRules(rules).build())));
    set.add(tcp.toBuilder().setFilterChains(0, chain).build());
    start(set);

    int[] ports = {Xds.freePort(), Xds.freePort()};
    Map<String, InetSocketAddress> a = new HashMap<>();
    a.put("10.0.0.1:8080", local(Xds.freePort()));
    a.put("10.0.0.1:9090", local(Xds.freePort()));
    a.put("127.0.0.1:10001", local(ports[0]));
    a.put("127.0.0.1:10002", local(ports[1]));
    a.put("10.0.0.4:5432", local(tcpIn));
    a.put("127.0.0.1:8080", app.address());
    a.put("127.0.0.1:9090", app.address());
    start(sidecar(mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/frontend")), a));
    HttpResponse<String> r = Curl.get(ports[1], "db", "/over-tcp");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("server=web-app", "request=GET /over-tcp");
    assertThat(r.body()).as("tcp_proxy does not touch the bytes").doesNotContain("h:via=");
  }

  @Test
  void theInboundTerminatesMtlsForAnyMeshClientAndRefusesOthers() throws Exception {
    Pki.Issued frontend = mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/frontend"));
    Path cert = Files.writeString(tmp.resolve("frontend.crt"), frontend.certPem());
    Path key = Files.writeString(tmp.resolve("frontend.key"), frontend.keyPem());
    String url = "https://127.0.0.1:" + inHttp + "/direct";
    // curl as a mesh client presenting frontend's certificate (-k: a SPIFFE certificate has no DNS name to
    // check; the sidecar's own identity check is covered by the outbound tests above).
    HttpResponse<String> ok = Curl.run(inHttp, "-k", "--cert", cert.toString(), "--key", key.toString(), url);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("request=GET /direct");

    assertThatThrownBy(() -> Curl.run(inHttp, "-k", url)).as("no client certificate").hasMessageContaining("failed");
    assertThatThrownBy(() -> Curl.run(inHttp, "http://127.0.0.1:" + inHttp + "/plain")).as("plaintext")
        .hasMessageContaining("failed");
    Pki other = new Pki("other-ca", Pki.Alg.EC);
    Pki.Issued forged = other.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/frontend"));
    Path fc = Files.writeString(tmp.resolve("forged.crt"), forged.certPem());
    Path fk = Files.writeString(tmp.resolve("forged.key"), forged.keyPem());
    assertThatThrownBy(() -> Curl.run(inHttp, "-k", "--cert", fc.toString(), "--key", fk.toString(), url))
        .as("the right SPIFFE ID from another CA").hasMessageContaining("failed");
  }
}
