package io.trellis.api.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.trellis.api.TestFiles;
import io.trellis.api.model.ResourceType;
import io.trellis.api.validation.FieldError;
import io.trellis.api.validation.ValidationException;
import io.trellis.api.validation.Validators;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Parse errors: one clear message with a path or a line/column, never a parser stack trace. */
class CodecErrorsTest {
  private static final ResourceCodec CODEC = new ResourceCodec();

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of(
            "YAML: mapping value where none is allowed",
            "type: Mesh\nname: default\nmtls: a: b\n",
            "line 3, column"),
        Arguments.of(
            "YAML: bad indentation",
            "type: Mesh\nname: default\nmtls:\n  enabledBackend: a\n backends: []\n",
            "line 5, column"),
        Arguments.of(
            "JSON: missing comma",
            "{\"type\": \"Mesh\"\n \"name\": \"default\"}",
            "line 2, column"),
        Arguments.of("YAML: duplicate key", "type: Mesh\nname: a\nname: b\n", "line 3, column"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedDocumentsNameLineAndColumn(String name, String text, String prefix) {
    ValidationException e = catchThrowableOfType(ValidationException.class, () -> CODEC.read(text));

    assertThat(e.errors()).hasSize(1);
    assertThat(e.getMessage())
        .startsWith(prefix)
        .doesNotContain("com.fasterxml")
        .doesNotContain("\n");
    assertThat(e.getStackTrace()).isEmpty();
  }

  @Test
  void emptyDocument() {
    assertThatThrownBy(() -> CODEC.read("# nothing\n"))
        .isInstanceOf(ValidationException.class)
        .hasMessage("empty document (expected: a resource)");
  }

  @Test
  void documentThatIsNotAnObject() {
    assertThatThrownBy(() -> CODEC.read("- type: Mesh\n"))
        .isInstanceOf(ValidationException.class)
        .hasMessage("a list (expected: an object)");
  }

  @Test
  void unknownFieldNamesItsPathAndTheKnownFields() {
    String text =
        "type: MeshTrafficPermission\nmesh: default\nname: x\nspec:\n  from:\n"
            + "    - targetRef:\n        kind: Mesh\n      default:\n        actoin: Allow\n";

    assertThatThrownBy(() -> CODEC.read(text))
        .isInstanceOf(ValidationException.class)
        .hasMessage("spec.from[0].default.actoin: unknown field (expected one of: action)");
  }

  @Test
  void wrongTypeNamesItsPathValueAndType() {
    String text =
        "{\"apiVersion\": \"kuma.io/v1alpha1\", \"kind\": \"MeshGateway\", \"mesh\": \"default\","
            + " \"metadata\": {\"name\": \"edge\"},"
            + " \"spec\": {\"conf\": {\"listeners\": [{\"port\": \"abc\"}]}}}";

    ValidationException e = catchThrowableOfType(ValidationException.class, () -> CODEC.read(text));

    assertThat(e.errors())
        .containsExactly(
            new FieldError("spec.conf.listeners[0].port", "\"abc\" (expected: integer)"));
  }

  @Test
  void objectWhereAListIsExpected() {
    String text = "type: MeshGateway\nmesh: default\nname: edge\nselectors:\n  match:\n    a: b\n";

    assertThatThrownBy(() -> CODEC.read(text))
        .hasMessage("selectors: an object (expected: a list)");
  }

  @Test
  void numberWhereAnEnumIsExpected() {
    String text =
        "type: MeshGateway\n"
            + "mesh: default\n"
            + "name: edge\n"
            + "conf:\n"
            + "  listeners:\n"
            + "    - port: 80\n"
            + "      protocol: 1\n";

    assertThatThrownBy(() -> CODEC.read(text))
        .hasMessage("conf.listeners[0].protocol: 1 (expected: one of HTTP, HTTPS, TCP, TLS)");
  }

  @Test
  void specFromJsonReportsPathsRelativeToTheSpec() {
    assertThatThrownBy(
            () ->
                CODEC.specFromJson(
                    ResourceType.MESH_TIMEOUT, "{\"to\": [{\"default\": {\"x\": 1}}]}"))
        .hasMessage(
            "to[0].default.x: unknown field (expected one of: connectionTimeout, http,"
                + " idleTimeout)");
  }

  @Test
  void readsMultiDocumentStreamsAndNumbersTheirErrors() {
    String stream =
        "type: Mesh\nname: default\n---\napiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata:\n"
            + "  name: other\n---\ntype: Mesh\nname: bad\nmtls: 1\n";

    assertThatThrownBy(() -> CODEC.readAll(stream))
        .hasMessage("documents[2].mtls: 1 (expected: an object)");
    assertThat(CODEC.readAll(stream.substring(0, stream.lastIndexOf("---"))))
        .extracting(r -> r.name())
        .containsExactly("default", "other");
  }

  @Test
  void readResourcesAreDeeplyUnmodifiable() {
    var resource = CODEC.read(TestFiles.read("kinds/MeshGateway.universal.yaml"));
    var spec = resource.spec(io.trellis.api.model.MeshGatewaySpec.class);

    assertThatThrownBy(() -> spec.conf().listeners().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> spec.selectors().get(0).match().clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  /**
   * Structural fuzz: any node of any kind's document replaced by null, a string, a number, an empty
   * object or an empty list yields a resource or a {@link ValidationException}, never another
   * exception.
   */
  @Test
  void documentsWithReplacedNodesNeverThrowAnythingElse() {
    Random random = new Random(7);
    List<com.fasterxml.jackson.databind.JsonNode> replacements =
        List.of(
            com.fasterxml.jackson.databind.node.NullNode.instance,
            com.fasterxml.jackson.databind.node.TextNode.valueOf("x"),
            com.fasterxml.jackson.databind.node.IntNode.valueOf(-7),
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(),
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode());
    List<String> failures = new ArrayList<>();
    for (ResourceType type : ResourceType.values()) {
      for (String form : List.of("universal", "kubernetes")) {
        var original =
            CODEC.parse(TestFiles.read("kinds/" + type.kumaName() + "." + form + ".yaml"));
        List<String> pointers = new ArrayList<>();
        collectPointers(original, "", pointers);
        for (int i = 0; i < 40; i++) {
          var doc = original.deepCopy();
          String pointer = pointers.get(random.nextInt(pointers.size()));
          var replacement = replacements.get(random.nextInt(replacements.size()));
          String parent = pointer.substring(0, pointer.lastIndexOf('/'));
          String last =
              pointer.substring(pointer.lastIndexOf('/') + 1).replace("~1", "/").replace("~0", "~");
          var container = parent.isEmpty() ? doc : doc.at(parent);
          if (container instanceof com.fasterxml.jackson.databind.node.ObjectNode object) {
            object.set(last, replacement);
          } else if (container instanceof com.fasterxml.jackson.databind.node.ArrayNode array) {
            array.set(Integer.parseInt(last), replacement);
          }
          try {
            Validators.validate(
                form.equals("universal") ? CODEC.readUniversal(doc) : CODEC.readKubernetes(doc));
          } catch (ValidationException expected) {
            assertThat(expected.errors()).isNotEmpty();
          } catch (RuntimeException e) {
            failures.add(
                type.kumaName() + " " + form + " " + pointer + " = " + replacement + ": " + e);
          }
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  private static void collectPointers(
      com.fasterxml.jackson.databind.JsonNode node, String at, List<String> out) {
    if (node.isObject()) {
      node.fields()
          .forEachRemaining(
              e -> {
                String child = at + "/" + e.getKey().replace("~", "~0").replace("/", "~1");
                out.add(child);
                collectPointers(e.getValue(), child, out);
              });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        out.add(at + "/" + i);
        collectPointers(node.get(i), at + "/" + i, out);
      }
    }
  }

  /**
   * Fuzz: truncations and single-character edits of every kind's document yield a resource or a
   * {@link ValidationException}, never another exception (seeded, so failures reproduce).
   */
  @Test
  void mutatedDocumentsNeverThrowAnythingElse() {
    Random random = new Random(42);
    List<String> failures = new ArrayList<>();
    String junk = ":-[]{}#&*!|>'\"%@` \n\t0a";
    for (ResourceType type : ResourceType.values()) {
      for (String form : List.of("universal", "kubernetes")) {
        String text = TestFiles.read("kinds/" + type.kumaName() + "." + form + ".yaml");
        for (int i = 0; i < 20; i++) {
          StringBuilder mutated = new StringBuilder(text);
          int pos = random.nextInt(text.length());
          switch (i % 3) {
            case 0 -> mutated.setLength(pos);
            case 1 -> mutated.setCharAt(pos, junk.charAt(random.nextInt(junk.length())));
            default -> mutated.insert(pos, junk.charAt(random.nextInt(junk.length())));
          }
          try {
            Validators.validate(CODEC.read(mutated.toString()));
          } catch (ValidationException expected) {
            assertThat(expected.errors()).isNotEmpty();
          } catch (RuntimeException e) {
            failures.add(type.kumaName() + " " + form + " #" + i + ": " + e + "\n" + mutated);
          }
        }
      }
    }
    assertThat(failures).isEmpty();
  }
}
