package io.trellis.ca;

import io.grpc.Status;

/**
 * A refused or failed issuance: the gRPC status to answer with, a short metric label and the reason
 * for the caller.
 */
public final class SignRefused extends Exception {
  private final Status.Code code;
  private final String reason;

  public SignRefused(Status.Code code, String reason, String message) {
    super(message, null, false, false);
    this.code = code;
    this.reason = reason;
  }

  public static SignRefused invalid(String reason, String message) {
    return new SignRefused(Status.Code.INVALID_ARGUMENT, reason, message);
  }

  public static SignRefused denied(String reason, String message) {
    return new SignRefused(Status.Code.PERMISSION_DENIED, reason, message);
  }

  public static SignRefused unavailable(String reason, String message) {
    return new SignRefused(Status.Code.UNAVAILABLE, reason, message);
  }

  public Status.Code code() {
    return code;
  }

  /** Metric label, e.g. {@code bad_signature}, {@code weak_key}, {@code san_mismatch}. */
  public String reason() {
    return reason;
  }

  public Status toStatus() {
    return Status.fromCode(code).withDescription(getMessage());
  }
}
