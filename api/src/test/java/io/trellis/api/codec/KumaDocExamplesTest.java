package io.trellis.api.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.TestFiles;
import io.trellis.api.model.MeshGatewaySpec;
import io.trellis.api.model.MeshTrafficPermissionSpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.model.TargetRef;
import io.trellis.api.validation.Validators;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Examples copied verbatim from Kuma's docs (see {@code src/test/resources/kuma-docs/README.md}).
 */
class KumaDocExamplesTest {
  private static final ResourceCodec CODEC = new ResourceCodec();

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "meshgateway-hostnames.universal.yaml, MeshGateway, true",
    "meshgateway-hostnames.kubernetes.yaml, MeshGateway, true",
    "meshgateway-tls-termination.universal.yaml, MeshGateway, true",
    // a binding-only fragment from the docs: parses, but Trellis requires listeners
    "meshgateway-binding.universal.yaml, MeshGateway, false",
    "meshgateway-binding.kubernetes.yaml, MeshGateway, false",
    // data is a shell substitution in the docs, not base64 yet
    "meshgateway-tls-secret.universal.yaml, Secret, false",
    "meshtrafficpermission-allow-orders.universal.yaml, MeshTrafficPermission, true",
    "meshtrafficpermission-allow-orders.kubernetes.yaml, MeshTrafficPermission, true",
    "meshtrafficpermission-allow-orders-2.8.universal.yaml, MeshTrafficPermission, true",
    "meshtrafficpermission-deny-all.universal.yaml, MeshTrafficPermission, true",
    "meshtrafficpermission-allow-all.universal.yaml, MeshTrafficPermission, true",
    "meshtrafficpermission-example-with-tags.universal.yaml, MeshTrafficPermission, true",
  })
  void parsesVerbatim(String file, String kind, boolean valid) {
    Resource resource = CODEC.read(TestFiles.read("kuma-docs/" + file));

    assertThat(resource.type().kumaName()).isEqualTo(kind);
    assertThat(Validators.validate(resource).isEmpty()).isEqualTo(valid);
    assertThat(CODEC.read(CODEC.writeUniversalYaml(resource))).isEqualTo(resource);
  }

  @Test
  void meshGatewayWithTwoHostnamesOnOnePort() {
    Resource universal =
        CODEC.read(TestFiles.read("kuma-docs/meshgateway-hostnames.universal.yaml"));
    Resource kubernetes =
        CODEC.read(TestFiles.read("kuma-docs/meshgateway-hostnames.kubernetes.yaml"));

    assertThat(kubernetes).isEqualTo(universal);
    MeshGatewaySpec spec = universal.spec(MeshGatewaySpec.class);
    assertThat(spec.selectors().get(0).match()).containsEntry("kuma.io/service", "edge-gateway");
    assertThat(spec.conf().listeners())
        .extracting(MeshGatewaySpec.Listener::hostname)
        .containsExactly("foo.example.com", "bar.example.com");
    assertThat(spec.conf().listeners())
        .extracting(MeshGatewaySpec.Listener::port)
        .containsOnly(8080);
  }

  @Test
  void meshTrafficPermissionWithThreeSpaceIndentationAndComments() {
    Resource resource =
        CODEC.read(
            TestFiles.read("kuma-docs/meshtrafficpermission-example-with-tags.universal.yaml"));

    MeshTrafficPermissionSpec spec = resource.spec(MeshTrafficPermissionSpec.class);
    assertThat(resource.type()).isEqualTo(ResourceType.MESH_TRAFFIC_PERMISSION);
    assertThat(spec.targetRef()).isEqualTo(TargetRef.ofMesh());
    assertThat(spec.from()).hasSize(2);
    assertThat(spec.from().get(0).targetRef().tags()).isEqualTo(Map.of("kuma.io/zone", "us-east"));
    assertThat(spec.from().get(1).conf().action()).isEqualTo(MeshTrafficPermissionSpec.Action.Deny);
  }
}
