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
 * @param rank the entry's own specificity (derived once: entries are matched for every proxy)
 * @param subset peers this entry is about, null when it selects none by tags (derived once)
 */
public record Entry(
    TargetRef targetRef, JsonNode conf, String policy, int policyRank, int rank, Map<String, String> subset) {

  public Entry(TargetRef targetRef, JsonNode conf, String policy, int policyRank) {
    this(targetRef, conf, policy, policyRank, TargetRefs.rank(targetRef), TargetRefs.peerSubset(targetRef));
  }
}
