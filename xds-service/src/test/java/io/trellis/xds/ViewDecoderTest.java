package io.trellis.xds;

import static io.trellis.xds.testing.Views.conf;
import static io.trellis.xds.testing.Views.endpoint;
import static io.trellis.xds.testing.Views.rules;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Views;
import org.junit.jupiter.api.Test;

/** Only a change confined to internal outbounds' endpoints is reported as such; decoding equals parsing. */
class ViewDecoderTest {
  static Views.Builder view(String... backendIps) {
    return Views.of(Dataplanes.builder().name("web-1").address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
            Meshes.defaultMesh())
        .outbound("backend", "http", "127.0.0.1", 10001,
            java.util.Arrays.stream(backendIps).map(ip -> endpoint(ip, 8080)).toArray(io.trellis.api.policy.v1.Endpoint[]::new))
        .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432));
  }

  static boolean endpointsOnly(ProxyView before, ProxyView after) {
    ViewDecoder d = new ViewDecoder();
    assertThat(d.decode(before.toByteArray()).view()).isEqualTo(before);
    ViewDecoder.Decoded decoded = d.decode(after.toByteArray());
    assertThat(decoded.view()).isEqualTo(after);
    return decoded.endpointsOnly();
  }

  @Test
  void endpointChangesOfInternalServices() {
    assertThat(endpointsOnly(view("10.0.0.2").build(), view("10.0.0.2", "10.0.0.3").version(2).build())).isTrue();
    assertThat(endpointsOnly(view("10.0.0.2", "10.0.0.3").build(), view("10.0.0.3").version(2).build())).isTrue();
    assertThat(endpointsOnly(view("10.0.0.2").build(), view("10.0.0.2").version(2).build())).isTrue();
  }

  @Test
  void everyOtherChange() {
    ProxyView base = view("10.0.0.2").build();
    assertThat(endpointsOnly(base, view("10.0.0.2").outboundRules(rules("MeshTimeout", conf("{\"connectionTimeout\":\"1s\"}")))
        .build())).as("rules").isFalse();
    assertThat(endpointsOnly(base, view("10.0.0.2").outbound("cache", "tcp", "127.0.0.1", 10003).build())).as("an outbound").isFalse();
    assertThat(endpointsOnly(base, base.toBuilder().setOutbounds(1, base.getOutbounds(1).toBuilder().setPort(10009)).build()))
        .as("a local port").isFalse();
    assertThat(endpointsOnly(base, base.toBuilder().setMtlsEnabled(true).build())).as("a top-level field").isFalse();
    assertThat(endpointsOnly(base, base.toBuilder().clearProxyRules()
        .addProxyRules(rules("MeshAccessLog", conf("{\"backends\":[]}"))).build())).as("proxy rules").isFalse();
    ProxyView external = base.toBuilder().setOutbounds(0, base.getOutbounds(0).toBuilder().setExternal(true)).build();
    assertThat(endpointsOnly(external, external.toBuilder().setOutbounds(0, external.getOutbounds(0).toBuilder()
        .addEndpoints(endpoint("10.0.0.3", 8080)))
        .build())).as("an external service's endpoints").isFalse();
  }

  @Test
  void theFirstViewIsNoEndpointOnlyChange() {
    assertThat(new ViewDecoder().decode(view("10.0.0.2").build().toByteArray()).endpointsOnly()).isFalse();
  }

  @Test
  void malformedBytesAreRejectedAndTheStateKept() {
    ViewDecoder d = new ViewDecoder();
    d.decode(view("10.0.0.2").build().toByteArray());
    assertThatThrownBy(() -> d.decode(new byte[] {0x52, 0x05, 0x01})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("proxy view: malformed protobuf");
    assertThat(d.decode(view("10.0.0.2", "10.0.0.3").build().toByteArray()).endpointsOnly()).isTrue();
  }
}
