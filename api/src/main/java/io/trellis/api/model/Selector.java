package io.trellis.api.model;

import java.util.Map;

/** An old-style selector: {@code match} holds the tags a proxy must have. */
public record Selector(Map<String, String> match) {}
