package io.trellis.api.validation;

import static java.util.Objects.requireNonNull;

/**
 * One problem with one field.
 *
 * @param path the field path as it appears in the universal form, e.g. {@code
 *     conf.listeners[0].port} or {@code spec.from[0].default.action}; parse errors use the path in
 *     the document that was read
 * @param message the value or problem and the expected form, e.g. {@code 70000 (expected:
 *     1..65535)}
 */
public record FieldError(String path, String message) {

  public FieldError {
    requireNonNull(path, "path");
    requireNonNull(message, "message");
  }

  /** {@code <path>: <message>}, e.g. {@code conf.listeners[0].port: 70000 (expected: 1..65535)}. */
  @Override
  public String toString() {
    return path.isEmpty() ? message : path + ": " + message;
  }
}
