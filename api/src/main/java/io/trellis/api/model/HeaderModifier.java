package io.trellis.api.model;

import java.util.List;

/**
 * Kuma {@code requestHeaderModifier}/{@code responseHeaderModifier}: headers to add, set and
 * remove.
 */
public record HeaderModifier(List<HttpHeader> add, List<HttpHeader> set, List<String> remove) {}
