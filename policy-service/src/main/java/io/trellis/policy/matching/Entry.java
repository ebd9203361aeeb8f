package io.trellis.policy.matching;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.api.model.TargetRef;
import java.util.Map;

/**
 * One {@code from[]}/{@code to[]}/{@code rules[]} entry of a matching policy.
 *
 * @param targetRef the entry's own targetRef (null for {@code rules[]}: every peer)
 * @param conf the entry's {@code default}
 * @param policy name of the policy it came from
 * @param policyRank top-level specificity of that policy
 */
public record Entry(TargetRef targetRef, JsonNode conf, String policy, int policyRank) {
  public int rank() {
    return TargetRefs.rank(targetRef);
  }

  /** Peers this entry is about; null when it selects none by tags. */
  public Map<String, String> subset() {
    return TargetRefs.peerSubset(targetRef);
  }
}
