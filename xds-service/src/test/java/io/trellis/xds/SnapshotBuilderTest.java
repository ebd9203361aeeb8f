package io.trellis.xds;

import static io.trellis.xds.testing.Views.conf;
import static io.trellis.xds.testing.Views.endpoint;
import static io.trellis.xds.testing.Views.rules;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Views;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.SecretTranslator;
import io.trellis.xds.translate.XdsResources;
import java.util.List;
import java.util.Map;
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
        c("an external service's endpoint joins", () -> external(base(false, "http", "10.0.0.2").build()),
            () -> external(base(false, "http", "10.0.0.2", "10.0.0.3").build())),
        c("a subset route is added", () -> base(false, "http", "10.0.0.2").build(), () -> base(false, "http", "10.0.0.2")
            .outboundRules(rules("MeshHTTPRoute", conf("{\"rules\":[{\"matches\":[{\"path\":{\"type\":\"Exact\",\"value\":\"/x\"}}],"
                + "\"default\":{\"backendRefs\":[{\"kind\":\"MeshServiceSubset\",\"name\":\"backend\",\"tags\":{\"version\":\"v1\"}}]}}]}")))
            .build()),
        c("the local port changes", () -> base(false, "http", "10.0.0.2").build(), () -> Views.of(
                Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http").build(), Meshes.defaultMesh())
            .outbound("backend", "http", "127.0.0.1", 20001, endpoint("10.0.0.2", 8080, "version", "v1"))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432)).build()));
  }

  /** The view with its first outbound turned into an ExternalService (its endpoints go into the cluster). */
  static ProxyView external(ProxyView v) {
    return v.toBuilder().setOutbounds(0, v.getOutbounds(0).toBuilder().setExternal(true)).build();
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
      // views arrive as bytes (as from policy-service), so a change only in endpoints takes the EDS-only path
      for (var step : List.of(Map.entry("before", before), Map.entry("after", after), Map.entry("back", before))) {
        ProxyView v = builder.decode(step.getValue().get().toByteArray());
        assertThat(v).as(name + " (" + kind + "), " + step.getKey() + ": decoded").isEqualTo(step.getValue().get());
        assertThat(builder.translate(v, v.getMtlsEnabled() ? IDENTITY : null)).as(name + " (" + kind + "), " + step.getKey())
            .isEqualTo(full(v, kind));
      }
    }
  }

  @org.junit.jupiter.api.Test
  void anEndpointOnlyChangeReplacesOnlyTheServicesClusterLoadAssignment() {
    SnapshotBuilder one = new SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC);
    Snapshot before = one.snapshot(one.decode(base(true, "http", "10.0.0.2").build().toByteArray()), IDENTITY);
    Snapshot after = one.snapshot(one.decode(base(true, "http", "10.0.0.2", "10.0.0.3").version(2).build().toByteArray()), IDENTITY);

    for (Resources.ResourceType type : List.of(Resources.ResourceType.CLUSTER, Resources.ResourceType.LISTENER,
        Resources.ResourceType.ROUTE, Resources.ResourceType.SECRET)) {
      assertThat(after.version(type)).as(type + " version").isEqualTo(before.version(type));
      assertThat(after.versionedResources(type)).as(type + " resources").isSameAs(before.versionedResources(type));
    }
    assertThat(after.version(Resources.ResourceType.ENDPOINT)).isNotEqualTo(before.version(Resources.ResourceType.ENDPOINT));
    assertThat(addresses(after.endpoints().resources().get("backend"))).containsExactly("10.0.0.2", "10.0.0.3");
    assertThat(addresses(before.endpoints().resources().get("backend"))).containsExactly("10.0.0.2");
    // the unchanged service keeps its resource and per-resource version (delta xDS sends only "backend")
    assertThat(after.endpoints().versionedResources().get("db")).isSameAs(before.endpoints().versionedResources().get("db"));
    assertThat(after.endpoints().versionedResources().get("backend").version())
        .isNotEqualTo(before.endpoints().versionedResources().get("backend").version());
    // and it is exactly what a full translation gives
    ProxyView v = base(true, "http", "10.0.0.2", "10.0.0.3").version(2).build();
    assertThat(after.endpoints().resources().values()).containsExactlyInAnyOrderElementsOf(full(v, ProxyInput.ClientKind.ENVOY).endpoints());

    // another proxy (another name and local port) reaching the same service gets the same instance
    SnapshotBuilder two = new SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC);
    ProxyView other = Views.of(Dataplanes.builder().name("web-2").address("10.0.0.9").inbound(8080, "web").protocol("http").build(),
            Meshes.builder().builtinMtls("ca-1").build())
        .outbound("backend", "http", "127.0.0.1", 30001, endpoint("10.0.0.2", 8080, "version", "v1"))
        .build();
    two.snapshot(two.decode(other.toByteArray()), IDENTITY);
    Snapshot otherAfter = two.snapshot(two.decode(other.toBuilder().setOutbounds(0, other.getOutbounds(0).toBuilder()
        .addEndpoints(endpoint("10.0.0.3", 8080, "version", "v1"))).build().toByteArray()), IDENTITY);
    assertThat(otherAfter.endpoints().resources().get("backend")).isSameAs(after.endpoints().resources().get("backend"));
  }

  /**
   * Successive changes through the decoder, so pieces are found by position in the last translation (the
   * subset piece of an endpoint-only change from the second one on), mixed with changes of rules and of the
   * outbound order: every step equals a full translation, and an unchanged cluster keeps its instance.
   */
  @org.junit.jupiter.api.Test
  void successiveChangesEqualFullTranslations() {
    String subsetRoute = "{\"rules\":[{\"matches\":[{\"path\":{\"type\":\"Exact\",\"value\":\"/x\"}}],"
        + "\"default\":{\"backendRefs\":[{\"kind\":\"MeshServiceSubset\",\"name\":\"backend\",\"tags\":{\"version\":\"v2\"}}]}}]}";
    Supplier<Views.Builder> proxy = () -> Views.of(
        Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http").build(), Meshes.defaultMesh());
    List<Supplier<ProxyView>> steps = List.of(
        () -> proxy.get().outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1"))
            .outboundRules(rules("MeshHTTPRoute", conf(subsetRoute)))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432)).build(),
        // endpoints only (three times: the second and third find the subsets by position)
        () -> proxy.get().outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1"),
                endpoint("10.0.0.3", 8080, "version", "v2"))
            .outboundRules(rules("MeshHTTPRoute", conf(subsetRoute)))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432)).build(),
        () -> proxy.get().outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.3", 8080, "version", "v2"))
            .outboundRules(rules("MeshHTTPRoute", conf(subsetRoute)))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432)).build(),
        () -> proxy.get().outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.3", 8080, "version", "v2"))
            .outboundRules(rules("MeshHTTPRoute", conf(subsetRoute)))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432), endpoint("10.0.0.5", 5432)).build(),
        // the subset route goes: no subset cluster, no subset assignment any more
        () -> proxy.get().outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.3", 8080, "version", "v2"))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432), endpoint("10.0.0.5", 5432)).build(),
        () -> proxy.get().outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1"))
            .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432), endpoint("10.0.0.5", 5432)).build(),
        // the outbounds swap places: nothing is where it was
        () -> proxy.get().outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432), endpoint("10.0.0.5", 5432))
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1")).build(),
        () -> proxy.get().outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432))
            .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080, "version", "v1")).build());
    SnapshotBuilder builder = new SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC);
    XdsResources last = null;
    for (int i = 0; i < steps.size(); i++) {
      ProxyView v = builder.decode(steps.get(i).get().toBuilder().setVersion(i + 1).build().toByteArray());
      XdsResources r = builder.translate(v, null);
      XdsResources expected = full(v, ProxyInput.ClientKind.ENVOY);
      assertThat(r).as("step " + i).isEqualTo(expected);
      if (last != null && last.clusters().equals(r.clusters())) {
        for (int c = 0; c < r.clusters().size(); c++) {
          assertThat(r.clusters().get(c)).as("step " + i + ": unchanged cluster " + c).isSameAs(last.clusters().get(c));
        }
      }
      last = r;
    }
    assertThat(last.endpoints()).extracting(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment::getClusterName)
        .containsExactly("db", "backend");
  }

  static List<String> addresses(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment cla) {
    return cla.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
        .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).toList();
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
