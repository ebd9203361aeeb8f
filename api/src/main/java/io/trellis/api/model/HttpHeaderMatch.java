package io.trellis.api.model;

/**
 * Kuma 2.x header / query parameter match: {@code type} is Exact, Present, RegularExpression,
 * Absent or Prefix.
 */
public record HttpHeaderMatch(MatchType type, String name, String value) {

  public enum MatchType {
    Exact,
    Present,
    RegularExpression,
    Absent,
    Prefix
  }
}
