package io.trellis.injector.inject;

/** A pod that cannot be injected as it asks: the message names the annotation and the expected form. */
public final class InjectionException extends RuntimeException {
  public InjectionException(String message) {
    super(message);
  }
}
