package io.trellis.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.api.codec.ResourceCodec;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModelTest {

  @ParameterizedTest(name = "{0} = {1} ms")
  @CsvSource({
    "10s, 10000",
    "1m30s, 90000",
    "500ms, 500",
    "1.5h, 5400000",
    "0, 0",
    "0s, 0",
    "1d, 86400000",
    "2h45m, 9900000",
    "1.5s, 1500",
    "1000us, 1"
  })
  void parsesKumaDurations(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"", "10", "10 s", "-1s", "s", "1.s", "10sec", "1m 30s", "99999999999999999y"})
  void rejectsInvalidDurations(String text) {
    assertThat(Durations.isValid(text)).isFalse();
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("\"" + text + "\" (expected: duration like 10s, 1m30s, 500ms)");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "Mesh, meshes, false, false",
    "Dataplane, dataplanes, true, false",
    "MeshTrafficPermission, meshtrafficpermissions, true, true",
    "MeshGateway, meshgateways, true, false",
    "MeshRetry, meshretries, true, true",
    "ExternalService, external-services, true, false",
    "Secret, secrets, true, false",
    "MeshExternalService, meshexternalservices, true, false",
    "MeshGatewayKeyAuth, meshgatewaykeyauths, true, true"
  })
  void resourceTypesKnowTheirKumaNameAndPath(
      String name, String path, boolean meshScoped, boolean policy) {
    ResourceType type = ResourceType.fromName(name).orElseThrow();

    assertThat(ResourceType.fromPath(path)).contains(type);
    assertThat(type.path()).isEqualTo(path);
    assertThat(type.isMeshScoped()).isEqualTo(meshScoped);
    assertThat(type.isPolicy()).isEqualTo(policy);
  }

  @Test
  void namesAndPathsAreUnique() {
    assertThat(new HashSet<>(Arrays.stream(ResourceType.values()).map(ResourceType::path).toList()))
        .hasSize(ResourceType.values().length);
    assertThat(ResourceType.fromName("meshgateway")).isEmpty();
    assertThat(ResourceType.fromPath("MeshGateway")).isEmpty();
  }

  @ParameterizedTest(name = "{0} is less specific than {1}")
  @CsvSource({
    "Mesh, MeshSubset",
    "MeshSubset, MeshGateway",
    "MeshGateway, MeshService",
    "MeshService, MeshServiceSubset",
    "MeshExternalService, MeshServiceSubset",
    "MeshServiceSubset, Dataplane",
    "Dataplane, MeshHTTPRoute"
  })
  void targetRefKindsOrderBySpecificity(TargetRef.Kind less, TargetRef.Kind more) {
    assertThat(less.specificity()).isLessThan(more.specificity());
  }

  @Test
  void secretsNeverShowTheirData() {
    Resource secret =
        new Resource(ResourceType.SECRET, Meta.of("default", "s"), new SecretSpec("c2VjcmV0"));
    DataSource inline = new DataSource(null, null, "a2V5", "key");

    assertThat(secret.toString()).doesNotContain("c2VjcmV0").contains("<redacted>");
    assertThat(inline.toString()).doesNotContain("a2V5").doesNotContain("=key");
  }

  @Test
  void resourceRejectsASpecOfAnotherKind() {
    assertThatThrownBy(
            () -> new Resource(ResourceType.MESH, Meta.of(null, "m"), new SecretSpec("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("spec: SecretSpec (expected: MeshSpec)");
  }

  @Test
  void metaLabelsAreSortedAndUnmodifiable() {
    Meta meta = new Meta("default", "x", Map.of("b", "2", "a", "1"), 0, null, null);

    assertThat(meta.labels().keySet()).containsExactly("a", "b");
    assertThatThrownBy(() -> meta.labels().put("c", "3"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(new Meta("default", "x", null, 0, null, null).labels()).isEmpty();
  }

  @Test
  void keyAuthStoresDigestsAndHasKongDefaults() {
    MeshGatewayKeyAuthSpec.Conf none =
        new MeshGatewayKeyAuthSpec.Conf(null, null, null, null, null, null);

    assertThat(MeshGatewayKeyAuthSpec.Key.ofPlain("test").sha256())
        .isEqualTo("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assertThat(none.effectiveKeyNames()).containsExactly("apikey");
    assertThat(none.effectiveKeyInHeader()).isTrue();
    assertThat(none.effectiveKeyInQuery()).isTrue();
    assertThat(none.effectiveKeyInBody()).isFalse();
    assertThat(none.effectiveHideCredentials()).isFalse();
  }

  @Test
  void kubernetesObjectsKeepNamespaceAndAnnotations() {
    ResourceCodec codec = new ResourceCodec();
    String text =
        "apiVersion: kuma.io/v1alpha1\n"
            + "kind: MeshTimeout\n"
            + "metadata:\n"
            + "  name: t\n"
            + "  namespace: kuma-demo\n"
            + "  labels:\n"
            + "    kuma.io/mesh: demo\n"
            + "  annotations:\n"
            + "    owner: team-a\n"
            + "spec:\n"
            + "  to:\n"
            + "    - targetRef:\n"
            + "        kind: Mesh\n"
            + "      default:\n"
            + "        idleTimeout: 5s\n";

    var object = codec.readKubernetesObject(text);

    assertThat(object.namespace()).isEqualTo("kuma-demo");
    assertThat(object.annotations()).containsEntry("owner", "team-a");
    assertThat(object.resource().mesh()).isEqualTo("demo");
    assertThat(codec.writeKubernetesYaml(object)).isEqualTo(text);
  }

  @Test
  void universalKumaMeshLabelIsFoldedIntoMeta() {
    ResourceCodec codec = new ResourceCodec();
    Resource r =
        codec.read(
            "type: Secret\n"
                + "mesh: demo\n"
                + "name: s\n"
                + "labels:\n"
                + "  kuma.io/mesh: demo\n"
                + "  a: b\n"
                + "data: eA==\n");

    assertThat(r.meta().labels()).isEqualTo(Map.of("a", "b"));
    assertThat(codec.read(codec.writeKubernetesYaml(r, "ns"))).isEqualTo(r);
  }

  @Test
  void timestampsAndVersionsRoundTrip() {
    ResourceCodec codec = new ResourceCodec();
    String text =
        "type: Mesh\nname: default\ncreationTime: 2024-01-31T12:00:00Z\n"
            + "modificationTime: 2024-02-01T08:30:00.500Z\n";

    Resource mesh = codec.read(text);

    assertThat(mesh.meta().creationTime()).hasToString("2024-01-31T12:00:00Z");
    assertThat(codec.writeUniversalYaml(mesh)).isEqualTo(text);
    Resource versioned = new Resource(mesh.type(), mesh.meta().withVersion(7), mesh.spec());
    assertThat(codec.readKubernetes(codec.writeKubernetesYaml(versioned, null)).meta().version())
        .isEqualTo(7);
  }
}
