package io.trellis.xds.gateway;

import static io.trellis.xds.testing.Views.endpoint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.model.MeshGatewayKeyAuthSpec;
import io.trellis.api.policy.v1.GatewayView;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Golden;
import io.trellis.xds.testing.Views;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.SecretTranslator;
import io.trellis.xds.translate.TranslationException;
import io.trellis.xds.translate.XdsResources;
import org.junit.jupiter.api.Test;

/** Builtin gateway translation: golden resource sets and the key-auth contract with gateway-proxy. */
class GatewayTranslatorTest {
  static final SecretTranslator.Identity IDENTITY = new SecretTranslator.Identity(
      "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
      "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
      "-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n");

  static ByteString bundle(String kind) {
    return ByteString.copyFromUtf8("-----BEGIN CERTIFICATE-----\n" + kind + "-LEAF\n-----END CERTIFICATE-----\n"
        + "-----BEGIN " + (kind.startsWith("EC") ? "EC " : "") + "PRIVATE KEY-----\n" + kind + "-KEY\n-----END "
        + (kind.startsWith("EC") ? "EC " : "") + "PRIVATE KEY-----\n");
  }

  static final String HTTP_GATEWAY = """
      {"type":"MeshGateway","mesh":"default","name":"edge","selectors":[{"match":{"kuma.io/service":"edge"}}],
       "conf":{"listeners":[
         {"port":8080,"protocol":"HTTP"},
         {"port":8080,"protocol":"HTTP","hostname":"api.example.com"},
         {"port":8443,"protocol":"HTTPS","hostname":"*.example.com","tls":{"mode":"TERMINATE","certificates":[{"secret":"wild-rsa"},{"secret":"wild-ec"}]}},
         {"port":8443,"protocol":"HTTPS","hostname":"shop.example.com","tls":{"mode":"TERMINATE","certificates":[{"secret":"shop-rsa"}]}}]}}
      """;
  static final String API_ROUTE = """
      {"type":"MeshGatewayRoute","mesh":"default","name":"api-route","selectors":[{"match":{"kuma.io/service":"edge"}}],
       "conf":{"http":{"hostnames":["api.example.com"],"rules":[
         {"matches":[{"path":{"match":"PREFIX","value":"/api"}}],"backends":[{"destination":{"kuma.io/service":"backend"},"weight":1}]}]}}}
      """;
  static final String SHOP_ROUTE = """
      {"type":"MeshHTTPRoute","mesh":"default","name":"shop-route","spec":{"targetRef":{"kind":"MeshGateway","name":"edge"},
       "to":[{"targetRef":{"kind":"Mesh"},"hostnames":["shop.example.com"],"rules":[
         {"matches":[{"path":{"type":"PathPrefix","value":"/cart"}}],"default":{"backendRefs":[
           {"kind":"MeshServiceSubset","name":"shop","tags":{"version":"v2"},"weight":20},{"kind":"MeshService","name":"shop","weight":80}]}}]}]}}
      """;

  static String keyAuth(String targetKind, String targetName) {
    return """
        {"type":"MeshGatewayKeyAuth","mesh":"default","name":"edge-keys","spec":{"targetRef":{"kind":"%s","name":"%s"},
         "default":{"keyNames":["apikey"]},
         "consumers":[{"username":"alice","keys":[{"sha256":"%s"}]},{"username":"bob","keys":[{"secret":"bob-key"}]}]}}
        """.formatted(targetKind, targetName, MeshGatewayKeyAuthSpec.sha256Hex("alice-secret-key"));
  }

  static ProxyView httpGateway(String keyAuthJson) {
    GatewayView.Builder gw = GatewayView.newBuilder().setMeshGatewayJson(HTTP_GATEWAY)
        .addRouteJsons(API_ROUTE).addRouteJsons(SHOP_ROUTE)
        .putSecrets("wild-rsa", bundle("RSA")).putSecrets("wild-ec", bundle("EC")).putSecrets("shop-rsa", bundle("RSA-SHOP"))
        .putSecrets("bob-key", ByteString.copyFromUtf8("bob-secret-key\n"));
    if (keyAuthJson != null) {
      gw.setKeyAuthJson(keyAuthJson);
    }
    return Views.of(Dataplanes.builder().name("edge-1").gatewayBuiltin("edge").build(), Meshes.builder().builtinMtls("ca-1").build())
        .gateway(gw.build())
        .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
        .outbound("shop", "http", "127.0.0.1", 10002, endpoint("10.0.0.3", 8080, "version", "v1"), endpoint("10.0.0.4", 8080, "version", "v2"))
        .build();
  }

  static XdsResources translate(ProxyView view) {
    XdsResources r = ProxyTranslator.translate(ProxyInput.of(view, ProxyInput.ClientKind.ENVOY, Views.CODEC), IDENTITY);
    Golden.assertEnvoyValid(r);
    return r;
  }

  @Test
  void httpAndHttpsVirtualHostsWithKeyAuth() {
    Golden.assertMatches("gateway/http-https-vhosts.yaml", Golden.yaml(translate(httpGateway(keyAuth("MeshGateway", "edge")))));
  }

  @Test
  void tlsPassthroughBySni() {
    String gateway = """
        {"type":"MeshGateway","mesh":"default","name":"tls-edge","selectors":[{"match":{"kuma.io/service":"tls-edge"}}],
         "conf":{"listeners":[
           {"port":5432,"protocol":"TLS","hostname":"db.example.com","tls":{"mode":"PASSTHROUGH"}},
           {"port":5432,"protocol":"TLS","hostname":"*.example.com","tls":{"mode":"PASSTHROUGH"}},
           {"port":9000,"protocol":"TCP"}]}}
        """;
    String dbRoute = """
        {"type":"MeshTCPRoute","mesh":"default","name":"db-route","spec":{"targetRef":{"kind":"MeshGateway","name":"tls-edge"},
         "to":[{"targetRef":{"kind":"Mesh","sectionName":"db.example.com"},"rules":[{"default":{"backendRefs":[{"kind":"MeshService","name":"pg"}]}}]},
               {"targetRef":{"kind":"Mesh","sectionName":"*.example.com"},"rules":[{"default":{"backendRefs":[{"kind":"MeshService","name":"web-tls"}]}}]},
               {"targetRef":{"kind":"Mesh","sectionName":"*"},"rules":[{"default":{"backendRefs":[{"kind":"MeshService","name":"raw"}]}}]}]}}
        """;
    ProxyView view = Views.of(Dataplanes.builder().name("tls-edge-1").gatewayBuiltin("tls-edge").build(), Meshes.builder().builtinMtls("ca-1").build())
        .gateway(GatewayView.newBuilder().setMeshGatewayJson(gateway).addRouteJsons(dbRoute).build())
        .outbound("pg", "tcp", "127.0.0.1", 10003, endpoint("10.0.0.5", 5432))
        .outbound("web-tls", "tcp", "127.0.0.1", 10004, endpoint("10.0.0.6", 443))
        .outbound("raw", "tcp", "127.0.0.1", 10005, endpoint("10.0.0.7", 9000))
        .build();
    Golden.assertMatches("gateway/tls-passthrough.yaml", Golden.yaml(translate(view)));
  }

  @Test
  void keyAuthOnOneRouteMakesTheOthersOptOut() {
    XdsResources r = translate(httpGateway(keyAuth("MeshHTTPRoute", "shop-route")));
    RouteConfiguration rc = r.routes().stream().filter(x -> x.getName().equals("gateway:edge:8443")).findFirst().orElseThrow();
    rc.getVirtualHostsList().forEach(vh -> vh.getRoutesList().forEach(route -> {
      boolean optedOut = route.containsTypedPerFilterConfig(KeyAuthConfigurer.FILTER);
      assertThat(optedOut).as(route.getName()).isEqualTo(!route.getName().startsWith("shop-route"));
    }));
  }

  @Test
  void keyAuthWithUnknownSecretIsRefused() {
    ProxyView view = httpGateway(keyAuth("MeshGateway", "edge"));
    ProxyView missing = view.toBuilder().setGateway(view.getGateway().toBuilder().removeSecrets("bob-key")).build();
    assertThatThrownBy(() -> translate(missing)).isInstanceOf(TranslationException.class)
        .hasMessageContaining("consumers[].keys[].secret: bob-key");
  }

  @Test
  void wildcardHostnamesIntersect() {
    assertThat(GatewayTranslator.hostsIntersect(java.util.List.of("shop.example.com"), "*.example.com")).isTrue();
    assertThat(GatewayTranslator.hostsIntersect(java.util.List.of("*.example.com"), "shop.example.com")).isTrue();
    assertThat(GatewayTranslator.hostsIntersect(java.util.List.of("shop.example.com"), "api.example.com")).isFalse();
    assertThat(GatewayTranslator.hostsIntersect(java.util.List.of("*.example.com"), "example.com")).isFalse();
  }
}
