package io.trellis.injector;

/** A request that is not a usable AdmissionReview: answered with HTTP 400 and this reason. */
final class AdmissionException extends RuntimeException {
  AdmissionException(String message) {
    super(message);
  }
}
