package io.trellis.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.api.TestFiles;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The table in {@code src/test/resources/invalid/cases.yaml}: each input and the exact errors it
 * produces.
 */
class InvalidResourcesTest {
  private static final ResourceCodec CODEC = new ResourceCodec();

  static Stream<Arguments> cases() {
    JsonNode cases = CODEC.parse(TestFiles.read("invalid/cases.yaml"));
    return StreamSupport.stream(cases.spliterator(), false)
        .map(
            c ->
                Arguments.of(
                    c.get("name").asText(),
                    c.get("input").asText(),
                    StreamSupport.stream(c.get("errors").spliterator(), false)
                        .map(JsonNode::asText)
                        .toList()));
  }

  /** Reading plus validation, as a service would do it: every message, never another exception. */
  static List<String> errorsOf(String input) {
    try {
      Resource resource = CODEC.read(input);
      return Validators.validate(resource).stream().map(FieldError::toString).toList();
    } catch (ValidationException e) {
      return e.errors().stream().map(FieldError::toString).toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void rejects(String name, String input, List<String> expected) {
    assertThat(errorsOf(input)).containsExactlyElementsOf(expected);
  }

  @Test
  void everyKindHasAtLeastThreeInvalidCases() {
    Map<ResourceType, Integer> counts = new EnumMap<>(ResourceType.class);
    cases()
        .forEach(
            a -> {
              String name = (String) a.get()[0];
              ResourceType.fromName(name.substring(0, name.indexOf(':')))
                  .ifPresent(t -> counts.merge(t, 1, Integer::sum));
            });
    List<String> missing = new ArrayList<>();
    for (ResourceType type : ResourceType.values()) {
      if (counts.getOrDefault(type, 0) < 3) {
        missing.add(type.kumaName() + "=" + counts.getOrDefault(type, 0));
      }
    }
    assertThat(missing).isEmpty();
  }
}
