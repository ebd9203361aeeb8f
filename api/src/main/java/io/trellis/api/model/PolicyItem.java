package io.trellis.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A {@code from[]} or {@code to[]} entry: a targetRef and the {@code default} configuration applied
 * to it.
 *
 * @param conf the {@code default} block (a Java keyword, hence the name)
 */
public record PolicyItem<D>(TargetRef targetRef, @JsonProperty("default") D conf) {}
