package io.trellis.api.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.model.Resource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Strings that a YAML reader would resolve to numbers are quoted on output, so a Dataplane written as universal
 * YAML reads back with the same tags (Jackson's own check misses exponents without a dot and the special floats).
 */
class YamlQuotingTest {
  static final ResourceCodec CODEC = new ResourceCodec();

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "exponent without a dot, 1e5",
      "hex-looking build id, 70696e67",
      "signed exponent, -2E-3",
      "plain integer, 42",
      "decimal, 1.5",
      "infinity, .inf",
      "not a number, .nan",
      "boolean word, true",
      "ordinary word, web",
      "version with letters, v1e5",
  })
  void aTagValueSurvivesAYamlRoundTrip(String name, String value) {
    Resource dp = CODEC.readUniversal("""
        type: Dataplane
        mesh: default
        name: dp-1
        networking:
          address: 10.0.0.1
          inbound:
            - port: 8080
              tags:
                kuma.io/service: web
                build: "%s"
        """.formatted(value));
    String yaml = CODEC.writeUniversalYaml(dp);
    Resource back = CODEC.readUniversal(yaml);
    assertThat(back.spec()).as(yaml).isEqualTo(dp.spec());
    assertThat(CODEC.writeUniversalYaml(back)).isEqualTo(yaml);
  }
}
