package io.trellis.xds;

import static io.trellis.xds.testing.Views.conf;
import static io.trellis.xds.testing.Views.endpoint;
import static io.trellis.xds.testing.Views.rules;
import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Views;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.SecretTranslator;
import io.trellis.xds.translate.XdsResources;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reusing path (per-proxy and shared pieces) yields exactly what a full translation yields, whatever
 * changed between two views: a memo key that missed an input would show up here as a stale piece.
 */
class SnapshotBuilderTest {
  static final SecretTranslator.Identity IDENTITY = new SecretTranslator.Identity(
      "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
      "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
      "-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n");

  static Views.Builder base(boolean mtls, String backendProtocol, String... backendIps) {
    var eps = java.util.Arrays.stream(backendIps).map(ip -> endpoint(ip, 8080, "version", "v1"))
        .toArray(io.trellis.api.policy.v1.Endpoint[]::new);
    return Views.of(Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
            mtls ? Meshes.builder().builtinMtls("ca-1").build() : Meshes.defaultMesh())
        .outbound("backend", backendProtocol, "127.0.0.1", 10001, eps)
        .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432));
  }

  static Stream<Arguments> changes() {
    return Stream.of(
        c("an endpoint joins", () -> base(false, "http", "10.0.0.2").build(), () -> base(false, "http", "10.0.0.2", "10.0.0.3").build()),
        c("mTLS turns on", () -> base(false, "http", "10.0.0.2").build(), () -> base(true, "http", "10.0.0.2").build()),
        c("the protocol changes", () -> base(false, "http", "10.0.0.2").build(), () -> base(false, "tcp", "10.0.0.2").build()),
        c("a timeout is added", () -> base(false, "http", "10.0.0.2").build(), () -> base(false, "http", "10.0.0.2")
            .outboundRules(rules("MeshTimeout", conf("{\"connectionTimeout\":\"1s\",\"http\":{\"requestTimeout\":\"5s\"}}"))).build()),
        c("a route is added", () -> base(false, "http", "10.0.0.2").build(), () -> base(false, "http", "10.0.0.2")
            .outboundRules(rules("MeshHTTPRoute", conf("{\"rules\":[{\"matches\":[{\"path\":{\"type\":\"Exact\",\"value\":\"/x\"}}],\"default\":{}}]}")))
            .build()),
        c("an access log is added", () -> base(false, "http", "10.0.0.2").build(), () -> base(false, "http", "10.0.0.2")
            .proxyRules(rules("MeshAccessLog", conf("{\"backends\":[{\"file\":{\"path\":\"/dev/stdout\"}}]}"))).build()),
        c("the local port changes", () -> base(false, "http", "10.0.0.2").build(), () -> Views.of(
                Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http").build(), Meshes.defaultMesh())
            .outbound("backend", "http", "127.0.0.1", 20001, endpoint("10.0.0.2", 8080, "version", "v1"))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432)).build()));
  }

  static Arguments c(String name, Supplier<ProxyView> before, Supplier<ProxyView> after) {
    return Arguments.of(name, before, after);
  }

  static XdsResources full(ProxyView v, ProxyInput.ClientKind kind) {
    return ProxyTranslator.translate(ProxyInput.of(v, kind, Views.CODEC), v.getMtlsEnabled() ? IDENTITY : null);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("changes")
  void reuseEqualsAFullTranslation(String name, Supplier<ProxyView> before, Supplier<ProxyView> after) {
    for (ProxyInput.ClientKind kind : List.of(ProxyInput.ClientKind.ENVOY, ProxyInput.ClientKind.GRPC)) {
      SnapshotBuilder builder = new SnapshotBuilder(kind, Views.CODEC);
      // another proxy warms the shared pieces with the "after" state first
      new SnapshotBuilder(kind, Views.CODEC).translate(after.get(), after.get().getMtlsEnabled() ? IDENTITY : null);
      ProxyView b = before.get();
      assertThat(builder.translate(b, b.getMtlsEnabled() ? IDENTITY : null)).as(name + " (" + kind + "), before").isEqualTo(full(b, kind));
      ProxyView a = after.get();
      assertThat(builder.translate(a, a.getMtlsEnabled() ? IDENTITY : null)).as(name + " (" + kind + "), after").isEqualTo(full(a, kind));
      assertThat(builder.translate(b, b.getMtlsEnabled() ? IDENTITY : null)).as(name + " (" + kind + "), back").isEqualTo(full(b, kind));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("changes")
  void proxiesShareTheClusterAndEndpointsOfAService(String name, Supplier<ProxyView> before, Supplier<ProxyView> after) {
    ProxyView v = before.get();
    XdsResources one = new SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC).translate(v, v.getMtlsEnabled() ? IDENTITY : null);
    XdsResources two = new SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC).translate(before.get(), v.getMtlsEnabled() ? IDENTITY : null);
    for (int i = 0; i < one.clusters().size(); i++) {
      if (!one.clusters().get(i).getName().startsWith("localhost:")) { // the proxy's own app cluster is its own
        assertThat(two.clusters().get(i)).isSameAs(one.clusters().get(i));
      }
    }
    for (int i = 0; i < one.endpoints().size(); i++) {
      assertThat(two.endpoints().get(i)).isSameAs(one.endpoints().get(i));
    }
  }
}
