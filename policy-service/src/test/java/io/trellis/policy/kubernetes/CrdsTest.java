package io.trellis.policy.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.validation.Validators;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRDs in {@code k8s/crds/} are generated from the api model: this test fails when they are stale
 * ({@code -DupdateGolden=true} rewrites them), checks each parses as a fabric8 CustomResourceDefinition with Kuma's
 * names and scope, and that Kuma's documentation examples fit the schemas structurally (nothing pruned).
 */
class CrdsTest {
  private static final Path CRDS = Path.of("..", "k8s", "crds");
  private static final ResourceCodec CODEC = new ResourceCodec();
  private static final Map<String, String> GENERATED = new CrdGenerator(CODEC).files();
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  @Test
  void k8sCrdsAreUpToDateWithTheModel() throws IOException {
    if (Boolean.getBoolean("updateGolden")) {
      Files.createDirectories(CRDS);
      try (Stream<Path> old = Files.list(CRDS)) {
        for (Path p : old.filter(p -> p.toString().endsWith(".kuma.io.yaml")).toList()) {
          Files.delete(p);
        }
      }
      for (Map.Entry<String, String> e : GENERATED.entrySet()) {
        Files.writeString(CRDS.resolve(e.getKey()), e.getValue());
      }
    }
    assertThat(CRDS).as("k8s/crds (run with -DupdateGolden=true to create)").isDirectory();
    Set<String> onDisk = new TreeSet<>();
    try (Stream<Path> files = Files.list(CRDS)) {
      files.filter(p -> p.toString().endsWith(".kuma.io.yaml")).forEach(p -> onDisk.add(p.getFileName().toString()));
    }
    assertThat(onDisk).as("CRD files in k8s/crds (run with -DupdateGolden=true to rewrite)")
        .containsExactlyElementsOf(GENERATED.keySet());
    for (Map.Entry<String, String> e : GENERATED.entrySet()) {
      assertThat(Files.readString(CRDS.resolve(e.getKey())))
          .as("k8s/crds/%s is stale (run with -DupdateGolden=true to rewrite)", e.getKey())
          .isEqualTo(e.getValue());
    }
  }

  static Stream<Arguments> kinds() {
    return Stream.of(KumaKind.values()).filter(KumaKind::isCustomResource).map(k -> Arguments.of(k.type().kumaName(),
        k));
  }

  @ParameterizedTest(name = "{0} is a kuma.io/v1alpha1 CRD with Kuma's names and scope")
  @MethodSource("kinds")
  void eachCrdParsesAsAFabric8CustomResourceDefinition(String name, KumaKind kind) {
    CustomResourceDefinition crd = SERIALIZATION.unmarshal(GENERATED.get(kind.crdName() + ".yaml"),
        CustomResourceDefinition.class);
    assertThat(crd.getMetadata().getName()).isEqualTo(kind.crdName());
    assertThat(crd.getSpec().getGroup()).isEqualTo("kuma.io");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(name);
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(kind.plural());
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactlyElementsOf(kind.shortNames());
    assertThat(crd.getSpec().getScope()).isEqualTo(kind.namespaced() ? "Namespaced" : "Cluster");
    assertThat(crd.getSpec().getVersions()).singleElement().satisfies(v -> {
      assertThat(v.getName()).isEqualTo("v1alpha1");
      assertThat(v.getStorage()).isTrue();
      assertThat(v.getSchema().getOpenAPIV3Schema().getProperties()).containsKey("spec");
    });
    List<String> notStructural = new ArrayList<>();
    structural(CODEC.parse(GENERATED.get(kind.crdName() + ".yaml")).at("/spec/versions/0/schema/openAPIV3Schema"),
        "", notStructural);
    assertThat(notStructural).as("schema nodes without a type").isEmpty();
  }

  /** A structural schema names a type everywhere, unless a node keeps unknown fields. */
  private static void structural(JsonNode schema, String path, List<String> errors) {
    if (!schema.has("type") && !schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
      errors.add(path);
    }
    schema.path("properties").fields().forEachRemaining(e -> structural(e.getValue(), path + "." + e.getKey(),
        errors));
    if (schema.has("items")) {
      structural(schema.get("items"), path + "[]", errors);
    }
    if (schema.has("additionalProperties")) {
      structural(schema.get("additionalProperties"), path + "{}", errors);
    }
  }

  @Test
  void scopesFollowKuma() {
    assertThat(KumaKind.MESH.namespaced()).isFalse();
    assertThat(KumaKind.MESH_GATEWAY.namespaced()).isFalse();
    assertThat(KumaKind.DATAPLANE.namespaced()).isTrue();
    assertThat(KumaKind.MESH_TRAFFIC_PERMISSION.namespaced()).isTrue();
    assertThat(KumaKind.MESH_RETRY.plural()).isEqualTo("meshretries");
    assertThat(KumaKind.EXTERNAL_SERVICE.plural()).isEqualTo("externalservices");
  }

  static Stream<Arguments> examples() throws IOException {
    return Stream.of("meshtrafficpermission-allow-orders", "meshgateway-tls-termination", "mesh-builtin-mtls",
        "meshhttproute-split", "meshtimeout-defaults", "meshretry-http").map(Arguments::of);
  }

  @ParameterizedTest(name = "Kuma docs example {0} fits its CRD schema and the model")
  @MethodSource("examples")
  void kumaDocExamplesValidateStructurally(String example) throws IOException {
    String yaml = resource("/kuma-docs/" + example + ".kubernetes.yaml");
    JsonNode object = CODEC.parse(yaml);
    KumaKind kind = Stream.of(KumaKind.values())
        .filter(k -> k.type().kumaName().equals(object.get("kind").asText())).findFirst().orElseThrow();
    JsonNode schema = CODEC.parse(GENERATED.get(kind.crdName() + ".yaml"))
        .at("/spec/versions/0/schema/openAPIV3Schema");
    List<String> errors = new ArrayList<>();
    validate(schema, object, "", errors);
    assertThat(errors).as("structural schema errors").isEmpty();
    Resource read = CODEC.readKubernetes(object);
    assertThat(Validators.validate(read)).isEmpty();
  }

  @Test
  void theValidatorCatchesWhatTheApiServerWouldPrune() {
    JsonNode schema = CODEC.parse(GENERATED.get(KumaKind.MESH_TIMEOUT.crdName() + ".yaml"))
        .at("/spec/versions/0/schema/openAPIV3Schema");
    JsonNode object = CODEC.parse("""
        {"apiVersion":"kuma.io/v1alpha1","kind":"MeshTimeout","metadata":{"name":"t"},
         "spec":{"targetRef":{"kind":"Mesh"},"to":[{"targetRef":{"kind":"Mezh"},"default":{"idleTimeoot":"1s",
         "connectionTimeout":5}}]}}""");
    List<String> errors = new ArrayList<>();
    validate(schema, object, "", errors);
    assertThat(errors).containsExactlyInAnyOrder(
        "spec.to[0].targetRef.kind: 'Mezh' not in enum",
        "spec.to[0].default.idleTimeoot: unknown field (would be pruned)",
        "spec.to[0].default.connectionTimeout: expected string");
  }

  /** The part of the API server's structural validation that matters here: types, enums, unknown fields. */
  private static void validate(JsonNode schema, JsonNode value, String path, List<String> errors) {
    String type = schema.path("type").asText("");
    boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    switch (type) {
      case "object" -> {
        if (!value.isObject()) {
          errors.add(path + ": expected object");
          return;
        }
        JsonNode properties = schema.get("properties");
        JsonNode additional = schema.get("additionalProperties");
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> field = it.next();
          String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
          if (properties != null && properties.has(field.getKey())) {
            validate(properties.get(field.getKey()), field.getValue(), child, errors);
          } else if (additional != null) {
            validate(additional, field.getValue(), child, errors);
          } else if (!preserve && properties != null) {
            errors.add(child + ": unknown field (would be pruned)");
          }
        }
      }
      case "array" -> {
        if (!value.isArray()) {
          errors.add(path + ": expected array");
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          validate(schema.get("items"), value.get(i), path + "[" + i + "]", errors);
        }
      }
      case "string" -> {
        if (!value.isTextual()) {
          errors.add(path + ": expected string");
        } else if (schema.has("enum")) {
          boolean found = false;
          for (JsonNode allowed : schema.get("enum")) {
            found |= allowed.asText().equals(value.asText());
          }
          if (!found) {
            errors.add(path + ": '" + value.asText() + "' not in enum");
          }
        }
      }
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          errors.add(path + ": expected integer");
        }
      }
      case "number" -> {
        if (!value.isNumber()) {
          errors.add(path + ": expected number");
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          errors.add(path + ": expected boolean");
        }
      }
      default -> {
        if (!preserve) {
          errors.add(path + ": schema without type or x-kubernetes-preserve-unknown-fields (not structural)");
        }
      }
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = CrdsTest.class.getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
