package io.trellis.xds.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.Rule;
import java.util.List;
import java.util.Optional;

/** Reads merged policy rules of a view: finds a policy type and types its {@code conf_json}. */
public final class Rules {
  // Lenient on unknown fields: a newer policy-service may send fields this translator does not know yet.
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private Rules() {}

  public static Optional<PolicyRules> find(List<PolicyRules> all, String policyType) {
    return all.stream().filter(r -> r.getPolicyType().equals(policyType)).findFirst();
  }

  /**
   * The conf for all peers of a target: the rule with an empty subset (a destination's {@code to} rules
   * and proxy-wide rules carry no peer subset), else empty.
   */
  public static <T> Optional<T> whole(List<PolicyRules> all, String policyType, Class<T> confClass) {
    return find(all, policyType).flatMap(r -> r.getRulesList().stream()
            .filter(rule -> rule.getSubsetCount() == 0 && rule.getNotSubsetCount() == 0)
            .findFirst())
        .map(rule -> conf(rule, confClass));
  }

  public static <T> T conf(Rule rule, Class<T> confClass) {
    try {
      return MAPPER.readValue(rule.getConfJson().isEmpty() ? "{}" : rule.getConfJson(), confClass);
    } catch (JsonProcessingException e) {
      throw new TranslationException("conf_json of " + confClass.getEnclosingClass().getSimpleName() + " rule: "
          + e.getOriginalMessage() + " (expected: the policy's default conf as JSON)");
    }
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }
}
