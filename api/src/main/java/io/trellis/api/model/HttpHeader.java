package io.trellis.api.model;

/** A header name and value, as in Kuma's header modifiers. */
public record HttpHeader(String name, String value) {}
