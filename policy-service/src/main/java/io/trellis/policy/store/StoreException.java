package io.trellis.policy.store;

/** The store could not do its job (database unreachable, corrupt row). Maps to 500/UNAVAILABLE, never to 4xx. */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
