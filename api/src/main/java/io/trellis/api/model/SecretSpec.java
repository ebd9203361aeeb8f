package io.trellis.api.model;

/**
 * Secret: base64 {@code data}. {@link #toString()} never shows it, so a Secret can be logged
 * safely.
 */
public record SecretSpec(String data) implements Spec {

  @Override
  public String toString() {
    return "SecretSpec[data=<redacted>]";
  }
}
