package io.trellis.api.validation;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Bad input: a resource that cannot be read or is not valid. Carries every problem found, never a
 * stack trace of the parser.
 */
public final class ValidationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient List<FieldError> errors;

  public ValidationException(List<FieldError> errors) {
    super(
        errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")),
        null,
        false,
        false);
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("errors: empty (expected: at least one error)");
    }
    this.errors = List.copyOf(errors);
  }

  public ValidationException(String path, String message) {
    this(List.of(new FieldError(path, message)));
  }

  public List<FieldError> errors() {
    return errors;
  }
}
