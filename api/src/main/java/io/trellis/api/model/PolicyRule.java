package io.trellis.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A {@code rules[]} entry of Kuma 2.9+ policies: configuration applied to all traffic of the
 * selected proxies.
 */
public record PolicyRule<D>(@JsonProperty("default") D conf) {}
