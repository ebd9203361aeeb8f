package io.trellis.policy.view;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.Rule;
import io.trellis.policy.matching.MergedRule;
import java.util.ArrayList;
import java.util.List;

/** Converts rules as they travel ({@link PolicyRules}) back to {@link MergedRule}s. */
public final class Rules {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Rules() {}

  public static List<MergedRule> fromProto(PolicyRules rules) {
    List<MergedRule> out = new ArrayList<>();
    for (Rule r : rules.getRulesList()) {
      try {
        out.add(new MergedRule(r.getSubsetMap(), JSON.readTree(r.getConfJson()), r.getOriginsList()));
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("conf_json: not JSON (expected: a JSON object)", e);
      }
    }
    return out;
  }
}
