package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Pki;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Edge gateway → mTLS (gateway's SPIFFE certificate from SDS, upstream identity verified) → a sidecar
 * inbound listener (mTLS termination + RBAC) → the local app. Also h2c with prior knowledge on the edge.
 */
class MeshIT {
  static EchoServer app;
  static DataPlane dp;
  static int edgePort;
  static int inboundPort;

  static Cluster meshCluster(String name, int port, String expectedSan) {
    UpstreamTlsContext utc = UpstreamTlsContext.newBuilder().setSni(name).setCommonTlsContext(CommonTlsContext.newBuilder()
        .addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName("identity_cert:gateway"))
        .setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
            .setDefaultValidationContext(CertificateValidationContext.newBuilder().addMatchTypedSubjectAltNames(
                SubjectAltNameMatcher.newBuilder().setSanType(SubjectAltNameMatcher.SanType.URI)
                    .setMatcher(StringMatcher.newBuilder().setExact(expectedSan))))
            .setValidationContextSdsSecretConfig(SdsSecretConfig.newBuilder().setName("mesh_ca:default")))).build();
    return staticCluster(name, new InetSocketAddress("127.0.0.1", port)).toBuilder()
        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(utc)))
        .build();
  }

  @BeforeAll
  static void start() throws Exception {
    app = new EchoServer("demo-app");
    edgePort = freePort();
    inboundPort = freePort();
    Pki mesh = new Pki("mesh-ca", Pki.Alg.EC);
    Pki.Issued gatewayId = mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/gateway", "kuma://kuma.io/service/gateway"));
    Pki.Issued appId = mesh.issue(Pki.Alg.EC, List.of(), List.of("spiffe://default/demo-app"));
    Secret caSecret = Secret.newBuilder().setName("mesh_ca:default").setValidationContext(CertificateValidationContext.newBuilder()
        .setTrustedCa(DataSource.newBuilder().setInlineString(mesh.caPem()))).build();
    Listener inbound = Listener.newBuilder().setName("inbound:demo-app").setAddress(address("127.0.0.1", inboundPort))
        .addFilterChains(FilterChain.newBuilder()
            .setFilterChainMatch(FilterChainMatch.newBuilder().setTransportProtocol("tls"))
            .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(
                DownstreamTlsContext.newBuilder().setRequireClientCertificate(BoolValue.of(true))
                    .setCommonTlsContext(CommonTlsContext.newBuilder()
                        .addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName("identity_cert:demo-app"))
                        .setValidationContextSdsSecretConfig(SdsSecretConfig.newBuilder().setName("mesh_ca:default"))).build())))
            .addFilters(hcmFilter(hcm("inbound-routes", AuthIT.rbacAllow("spiffe://default/gateway")))))
        .build();
    Xds.Set set = new Xds.Set().add(
        httpListener("edge", edgePort, "edge-routes"),
        inbound,
        routes("edge-routes", vhost("all", List.of("*"),
            prefix("/wrong-identity", "demo-app-impostor").build(),
            prefix("/", "demo-app").build())),
        routes("inbound-routes", vhost("local", List.of("*"), prefix("/", "localhost:app").build())),
        meshCluster("demo-app", inboundPort, "spiffe://default/demo-app"),
        meshCluster("demo-app-impostor", inboundPort, "spiffe://default/payments"),
        staticCluster("localhost:app", app.address()),
        tlsSecret("identity_cert:gateway", gatewayId), tlsSecret("identity_cert:demo-app", appId), caSecret);
    dp = new DataPlane(new DataPlane.Options(2, 0, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(set.resources()));
  }

  @AfterAll
  static void stop() {
    dp.close();
    app.close();
  }

  @Test
  void gatewayReachesTheSidecarOverMtlsAndTheAppSeesTheRequest() throws Exception {
    HttpResponse<String> r = Curl.get(edgePort, "demo.example.com", "/hello");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("server=demo-app", "request=GET /hello", "h:via=1.1 trellis, 1.1 trellis");
  }

  @Test
  void anUpstreamWithTheWrongSpiffeIdIsRefused() throws Exception {
    int before = app.requests.get();
    HttpResponse<String> r = Curl.get(edgePort, "demo.example.com", "/wrong-identity");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(app.requests.get()).as("the app must not be reached").isEqualTo(before);
  }

  @Test
  void h2cWithPriorKnowledge() throws Exception {
    HttpResponse<String> r = Curl.run(edgePort, "--http2-prior-knowledge", "http://127.0.0.1:" + edgePort + "/h2c");
    assertThat(r.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("server=demo-app", "request=GET /h2c");
  }
}
