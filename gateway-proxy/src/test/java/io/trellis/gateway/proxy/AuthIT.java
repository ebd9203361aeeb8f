package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Pki;
import io.trellis.gateway.testing.Xds;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key-auth per the trellis.key_auth contract, HTTP RBAC on plain connections, and a sidecar-style inbound
 * listener: mTLS termination, RBAC on the client's SPIFFE ID, forward to the local app.
 */
class AuthIT {
  @TempDir
  static Path dir;
  static EchoServer app;
  static DataPlane dp;
  static int kaPort;
  static int hidePort;
  static int rbacPort;
  static int inboundPort;
  static Pki mesh;

  static HttpFilter rbacAllow(String spiffeId) {
    RBAC rules = RBAC.newBuilder().setAction(RBAC.Action.ALLOW).putPolicies("allow", Policy.newBuilder()
        .addPermissions(Permission.newBuilder().setAny(true))
        .addPrincipals(Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder()
            .setPrincipalName(StringMatcher.newBuilder().setExact(spiffeId)))).build()).build();
    return HttpFilter.newBuilder().setName("envoy.filters.http.rbac").setTypedConfig(Any.pack(
        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(rules).build())).build();
  }

  @BeforeAll
  static void start() throws Exception {
    app = new EchoServer("app");
    kaPort = freePort();
    hidePort = freePort();
    rbacPort = freePort();
    inboundPort = freePort();
    mesh = new Pki("mesh-ca", Pki.Alg.EC);
    Pki.Issued serverCert = mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/demo-app"));
    Listener inbound = Listener.newBuilder().setName("inbound").setAddress(address("127.0.0.1", inboundPort))
        .addFilterChains(FilterChain.newBuilder()
            .setFilterChainMatch(FilterChainMatch.newBuilder().setTransportProtocol("tls"))
            .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(
                DownstreamTlsContext.newBuilder().setRequireClientCertificate(BoolValue.of(true))
                    .setCommonTlsContext(CommonTlsContext.newBuilder()
                        .addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName("identity"))
                        .setValidationContext(CertificateValidationContext.newBuilder()
                            .setTrustedCa(DataSource.newBuilder().setInlineString(mesh.caPem())))).build())))
            .addFilters(hcmFilter(hcm("routes", rbacAllow("spiffe://default/gateway")))))
        .build();
    Xds.Set set = new Xds.Set().add(
        httpListener("ka", kaPort, "routes", keyAuth(false, Map.of("alice", "secret-a", "bob", "secret-b"))),
        httpListener("hide", hidePort, "routes", keyAuth(true, Map.of("alice", "secret-a"))),
        httpListener("rbac", rbacPort, "routes", rbacAllow("spiffe://default/gateway")),
        inbound,
        routes("routes", vhost("all", List.of("*"),
            prefix("/open", "app").putTypedPerFilterConfig("trellis.key_auth", keyAuthDisabled()).build(),
            prefix("/", "app").build())),
        staticCluster("app", app.address()),
        tlsSecret("identity", serverCert));
    dp = new DataPlane(new DataPlane.Options(1, 0, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(set.resources()));
  }

  @AfterAll
  static void stop() {
    dp.close();
    app.close();
  }

  @Test
  void keyAuthRejectsMissingAndWrongKeysAndNamesTheConsumer() throws Exception {
    HttpResponse<String> none = Curl.get(kaPort, "x", "/");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body()).isEqualTo("{\"message\":\"No API key found in request\"}");
    assertThat(none.headers().firstValue("www-authenticate")).hasValue("Key realm=\"trellis\"");
    HttpResponse<String> wrong = Curl.get(kaPort, "x", "/", "apikey", "nope");
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).isEqualTo("{\"message\":\"Invalid authentication credentials\"}");
    HttpResponse<String> ok = Curl.get(kaPort, "x", "/", "apikey", "secret-b", "x-consumer-username", "mallory");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("h:x-consumer-username=bob", "h:apikey=secret-b").doesNotContain("mallory");
    HttpResponse<String> query = Curl.get(kaPort, "x", "/q?apikey=secret-a&keep=1");
    assertThat(query.body()).contains("h:x-consumer-username=alice", "request=GET /q?apikey=secret-a&keep=1");
    assertThat(Curl.get(kaPort, "x", "/open").statusCode()).isEqualTo(200);
  }

  @Test
  void hideCredentialsStripsTheKeyFromHeaderAndQuery() throws Exception {
    HttpResponse<String> h = Curl.get(hidePort, "x", "/", "apikey", "secret-a");
    assertThat(h.body()).contains("h:x-consumer-username=alice").doesNotContain("secret-a");
    HttpResponse<String> q = Curl.get(hidePort, "x", "/q?apikey=secret-a&keep=1");
    assertThat(q.body()).contains("request=GET /q?keep=1").doesNotContain("secret-a");
  }

  @Test
  void rbacDeniesAnUnauthenticatedPeer() throws Exception {
    HttpResponse<String> r = Curl.get(rbacPort, "x", "/");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).isEqualTo("RBAC: access denied");
  }

  @Test
  void sidecarInboundTerminatesMtlsAndAppliesRbacToTheSpiffeId() throws Exception {
    Path ca = dir.resolve("mesh-ca.pem");
    Files.writeString(ca, mesh.caPem());
    String allowed = curlMtls(ca, mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/gateway")), "gw");
    assertThat(allowed).startsWith("HTTP/").contains(" 200", "server=app");
    String denied = curlMtls(ca, mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/intruder")), "other");
    assertThat(denied).contains(" 403").endsWith("RBAC: access denied");
    Pki rogue = new Pki("rogue-ca", Pki.Alg.EC);
    String untrusted = curlMtls(ca, rogue.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/gateway")), "rogue");
    assertThat(untrusted).doesNotContain("HTTP/");
  }

  private String curlMtls(Path ca, Pki.Issued client, String name) throws Exception {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    Files.writeString(cert, client.certPem());
    Files.writeString(key, client.keyPem());
    // The server's identity is a SPIFFE URI, not a DNS name: check the chain, skip the hostname.
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "--max-time", "10", "--cacert", ca.toString(),
        "--cert", cert.toString(), "--key", key.toString(), "--insecure",
        "https://127.0.0.1:" + inboundPort + "/"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
