package io.trellis.injector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bootstrap in the injected golden pods is a valid Envoy v3 Bootstrap: parsed with Envoy's
 * protos, where a misspelt field or a wrong type fails (there is no Envoy binary on CI).
 */
class BootstrapProtoTest {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
      .add(HttpConnectionManager.getDescriptor())
      .add(Router.getDescriptor())
      .add(UpstreamTlsContext.getDescriptor())
      .add(HttpProtocolOptions.getDescriptor())
      .build());

  static Stream<Path> injected() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/inject"))) {
      return files.filter(p -> p.toString().endsWith(".golden.yaml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("injected")
  void bootstrapIsAValidEnvoyBootstrap(Path golden) throws Exception {
    JsonNode doc = InjectSidecarGoldenTest.YAML.readTree(golden.toFile());
    if (!doc.path("patched").asBoolean()) {
      assertThat(doc.has("bootstrap")).isFalse();
      return;
    }
    // What the sidecar's start script does before handing the document to Envoy.
    String json = InjectSidecarGoldenTest.JSON.writeValueAsString(doc.get("bootstrap"))
        .replace("__POD_NAME__", "demo-7d9f-abcde").replace("__TOKEN__", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    Bootstrap.Builder b = Bootstrap.newBuilder();
    PARSER.merge(json, b);
    Bootstrap bootstrap = b.build();
    assertThat(bootstrap.getNode().getId()).endsWith(".demo-7d9f-abcde." + doc.at("/pod/metadata/namespace").asText());
    assertThat(bootstrap.getDynamicResources().getAdsConfig().getGrpcServices(0).getInitialMetadata(0).getValue())
        .isEqualTo("Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    assertThat(bootstrap.getAdmin().getAddress().getSocketAddress().getAddress())
        .as("the admin API is never exposed outside the pod").isEqualTo("127.0.0.1");
    var xds = bootstrap.getStaticResources().getClustersList().stream().filter(c -> c.getName().equals("trellis_xds")).findFirst().orElseThrow();
    UpstreamTlsContext tls = xds.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(tls.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString()).startsWith("-----BEGIN CERTIFICATE-----");
  }
}
