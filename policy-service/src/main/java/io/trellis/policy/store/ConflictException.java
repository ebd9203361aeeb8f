package io.trellis.policy.store;

/** A write named a version that is no longer current (or expected a resource not to exist). */
public final class ConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConflictException(String message) {
    super(message, null, false, false);
  }
}
