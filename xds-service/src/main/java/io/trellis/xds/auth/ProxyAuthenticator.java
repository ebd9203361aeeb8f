package io.trellis.xds.auth;

import io.trellis.xds.ProxyRef;
import java.util.concurrent.CompletionStage;

/**
 * How a proxy proves it may receive a Dataplane's config. Fails closed: the stage completes
 * exceptionally with a {@link io.grpc.StatusRuntimeException} (UNAUTHENTICATED for a missing or invalid
 * credential, PERMISSION_DENIED for a valid one that names someone else, UNAVAILABLE when the check
 * itself could not be made) and the ADS stream is then closed before anything is sent.
 */
public interface ProxyAuthenticator {
  /** Completes normally only when {@code token} may act as {@code proxy}. */
  CompletionStage<Void> authenticate(String token, ProxyRef proxy);

  /** Whether the authenticator can decide yet (e.g. verification keys received). */
  boolean ready();

  /** A short state for the readiness check. */
  String state();
}
