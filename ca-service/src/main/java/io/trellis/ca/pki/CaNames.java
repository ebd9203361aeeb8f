package io.trellis.ca.pki;

import java.util.regex.Pattern;

/** Mesh and backend names as they may appear in URIs and file paths. */
public final class CaNames {
  // Kuma names: DNS-label-like. Anything else could escape the CA directory or break a SPIFFE URI.
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?");

  private CaNames() {}

  public static boolean valid(String name) {
    return name != null && NAME.matcher(name).matches() && !name.contains("..");
  }

  /** Throws {@code field: "value" (expected: …)} when invalid. */
  public static String require(String field, String name) {
    if (!valid(name)) {
      throw new IllegalArgumentException(field + ": " + (name == null ? "null" : "\"" + name + "\"")
          + " (expected: lowercase letters, digits, '-', '.' or '_', starting and ending alphanumeric)");
    }
    return name;
  }
}
