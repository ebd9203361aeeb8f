package io.trellis.api.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.TestFiles;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.validation.Validators;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind, in both forms, from Kuma-doc-shaped YAML in {@code src/test/resources/kinds/}. */
class ResourceKindsTest {
  private static final ResourceCodec CODEC = new ResourceCodec();

  static Stream<Arguments> documents() {
    return Arrays.stream(ResourceType.values())
        .flatMap(
            type ->
                Stream.of("universal", "kubernetes")
                    .map(
                        form ->
                            Arguments.of(
                                type.kumaName() + " (" + form + ")",
                                type,
                                form,
                                "kinds/" + type.kumaName() + "." + form + ".yaml")));
  }

  @Test
  void everyKindHasBothForms() {
    for (ResourceType type : ResourceType.values()) {
      assertThat(TestFiles.exists("kinds/" + type.kumaName() + ".universal.yaml"))
          .as(type.kumaName())
          .isTrue();
      assertThat(TestFiles.exists("kinds/" + type.kumaName() + ".kubernetes.yaml"))
          .as(type.kumaName())
          .isTrue();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void parsesAsItsKindAndIsValid(String name, ResourceType type, String form, String file) {
    Resource resource = CODEC.read(TestFiles.read(file));

    assertThat(resource.type()).isEqualTo(type);
    assertThat(resource.spec()).isInstanceOf(type.specClass());
    assertThat(Validators.validate(resource)).isEmpty();
    if (type.isMeshScoped()) {
      assertThat(resource.mesh()).isEqualTo("default");
      assertThat(resource.meta().labels()).doesNotContainKey(ResourceCodec.MESH_LABEL);
    } else {
      assertThat(resource.mesh()).isNull();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void roundTripsInItsOwnFormAsYamlAndJson(
      String name, ResourceType type, String form, String file) {
    Resource first =
        form.equals("universal")
            ? CODEC.readUniversal(TestFiles.read(file))
            : CODEC.readKubernetes(TestFiles.read(file));

    String yaml =
        form.equals("universal")
            ? CODEC.writeUniversalYaml(first)
            : CODEC.writeKubernetesYaml(first, "ns");
    Resource second = CODEC.read(yaml);
    assertThat(second).isEqualTo(first);
    String again =
        form.equals("universal")
            ? CODEC.writeUniversalYaml(second)
            : CODEC.writeKubernetesYaml(second, "ns");
    assertThat(again).isEqualTo(yaml);

    String json =
        form.equals("universal")
            ? CODEC.writeUniversalJson(first)
            : CODEC.writeKubernetesJson(first, "ns");
    assertThat(CODEC.read(json)).isEqualTo(first);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void convertsToTheOtherFormAndBack(String name, ResourceType type, String form, String file) {
    Resource original = CODEC.read(TestFiles.read(file));

    Resource viaOther =
        form.equals("universal")
            ? CODEC.readKubernetes(CODEC.writeKubernetesYaml(original, "kuma-system"))
            : CODEC.readUniversal(CODEC.writeUniversalYaml(original));

    assertThat(viaOther).isEqualTo(original);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void specRoundTripsThroughJson(String name, ResourceType type, String form, String file) {
    Resource resource = CODEC.read(TestFiles.read(file));

    String json = CODEC.toJson(resource.spec());

    assertThat(CODEC.specFromJson(type, json)).isEqualTo(resource.spec());
    assertThat(json).doesNotContain("null");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void writesOnlyWhatWasRead(String name, ResourceType type, String form, String file) {
    String text = TestFiles.read(file);
    Resource resource = CODEC.read(text);

    // same tree as the input, modulo the namespace we pass and key order
    var input = CODEC.parse(text);
    var output =
        form.equals("universal")
            ? CODEC.toUniversalNode(resource)
            : CODEC.toKubernetesNode(
                resource, input.path("metadata").path("namespace").textValue());
    assertThat(normalize(output)).isEqualTo(normalize(input));
  }

  private static com.fasterxml.jackson.databind.JsonNode normalize(
      com.fasterxml.jackson.databind.JsonNode node) {
    // numbers written as strings in YAML tags etc. compare as text
    return new com.fasterxml.jackson.databind.ObjectMapper()
        .valueToTree(
            new com.fasterxml.jackson.databind.ObjectMapper()
                .convertValue(node, java.util.TreeMap.class));
  }
}
