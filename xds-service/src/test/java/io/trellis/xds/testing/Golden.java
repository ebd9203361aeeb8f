package io.trellis.xds.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.trellis.xds.translate.EnvoyTypes;
import io.trellis.xds.translate.XdsResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Golden files of generated Envoy resources: sorted YAML of the full resource set. With
 * {@code -DupdateGolden=true} the files are rewritten instead of compared.
 */
public final class Golden {
  private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .stringQuotingChecker(io.trellis.api.codec.YamlQuoting.INSTANCE)
      .build()).configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  private static final Path ROOT = Path.of("src/test/resources");

  private Golden() {}

  /** The resource set as YAML; every Any is unpacked with {@link EnvoyTypes}, so unknown types fail here. */
  public static String yaml(XdsResources r) {
    ObjectNode root = JSON.createObjectNode();
    add(root, "listeners", r.listeners());
    add(root, "routes", r.routes());
    add(root, "clusters", r.clusters());
    add(root, "endpoints", r.endpoints());
    add(root, "secrets", r.secrets());
    try {
      return YAML.writeValueAsString(sortKeys(root));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode json(Message m) {
    try {
      return JSON.readTree(EnvoyTypes.printer().print(m));
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not printable with the Envoy type registry: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void add(ObjectNode root, String key, List<? extends Message> messages) {
    ArrayNode arr = root.putArray(key);
    messages.stream().map(Golden::json)
        .sorted(java.util.Comparator.comparing(n -> n.path("name").asText(n.path("cluster_name").asText())))
        .forEach(arr::add);
  }

  private static JsonNode sortKeys(JsonNode node) {
    if (node.isObject()) {
      ObjectNode sorted = JSON.createObjectNode();
      java.util.List<String> names = new java.util.ArrayList<>();
      node.fieldNames().forEachRemaining(names::add);
      java.util.Collections.sort(names);
      names.forEach(n -> sorted.set(n, sortKeys(node.get(n))));
      return sorted;
    }
    if (node.isArray()) {
      ArrayNode arr = JSON.createArrayNode();
      node.forEach(n -> arr.add(sortKeys(n)));
      return arr;
    }
    return node;
  }

  /** Every resource passes Envoy's protoc-gen-validate rules (see {@link io.trellis.xds.translate.EnvoyValidation}). */
  public static void assertEnvoyValid(XdsResources r) {
    List<String> violations = new java.util.ArrayList<>();
    java.util.stream.Stream.of(r.listeners(), r.routes(), r.clusters(), r.endpoints(), r.secrets())
        .flatMap(List::stream)
        .forEach(m -> violations.addAll(io.trellis.xds.translate.EnvoyValidation.violations(m)));
    assertThat(violations).as("Envoy validation of the resource set").isEmpty();
  }

  /** Compares with (or rewrites) {@code src/test/resources/<relative>}. */
  public static void assertMatches(String relative, String actual) {
    Path file = ROOT.resolve(relative);
    try {
      if (Boolean.getBoolean("updateGolden")) {
        Files.createDirectories(file.getParent());
        Files.writeString(file, actual);
        return;
      }
      assertThat(file).as("golden file %s (run with -DupdateGolden=true to create/rewrite)", file).exists();
      assertThat(actual).as("golden file %s (run with -DupdateGolden=true to rewrite)", file).isEqualTo(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
