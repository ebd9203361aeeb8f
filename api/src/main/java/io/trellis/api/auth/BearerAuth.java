package io.trellis.api.auth;

import static java.util.Objects.requireNonNull;

import io.grpc.CallCredentials;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Bearer-token authentication for Trellis's service-to-service gRPC calls. Clients attach
 * {@code authorization: Bearer <token>} with {@link #credentials}; servers refuse anonymous or
 * unknown callers with UNAUTHENTICATED before any handler runs ({@link #interceptor}) and expose the
 * authenticated caller's name in {@link #CALLER}.
 */
public final class BearerAuth {
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** The authenticated caller (e.g. {@code local-service} or a ServiceAccount name). */
  public static final Context.Key<String> CALLER = Context.key("trellis-caller");

  private BearerAuth() {}

  /** Client side: attaches the token to every call. */
  public static CallCredentials credentials(String token) {
    requireNonNull(token, "token");
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        applier.apply(headers);
      }
    };
  }

  /** Extracts the token of an {@code authorization: Bearer …} header, or null. */
  public static String bearerToken(Metadata headers) {
    String value = headers.get(AUTHORIZATION);
    if (value == null || !value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = value.substring(7).trim();
    return token.isEmpty() ? null : token;
  }

  /**
   * Server side: {@code authenticator} maps a presented token to the caller's name, or null when
   * the token is not accepted. Fails closed: no token, an unknown token, or an authenticator error
   * all end the call with UNAUTHENTICATED.
   */
  public static ServerInterceptor interceptor(Function<String, String> authenticator) {
    requireNonNull(authenticator, "authenticator");
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String token = bearerToken(headers);
        String caller = null;
        if (token != null) {
          try {
            caller = authenticator.apply(token);
          } catch (RuntimeException e) {
            caller = null;
          }
        }
        if (caller == null) {
          call.close(Status.UNAUTHENTICATED.withDescription(token == null
              ? "authorization: missing (expected: Bearer <service token>)"
              : "authorization: token not accepted"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
      }
    };
  }
}
