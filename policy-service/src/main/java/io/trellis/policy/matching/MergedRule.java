package io.trellis.policy.matching;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The merged configuration for peers carrying every tag of {@code subset}. Rules of one target are ordered most
 * specific subset first: a peer uses the first rule whose subset it carries.
 */
public record MergedRule(Map<String, String> subset, JsonNode conf, List<String> origins) {}
