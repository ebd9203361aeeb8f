package io.trellis.ca.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import io.trellis.api.auth.BearerAuth;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Every gRPC call of ca-service is authenticated; {@link BearerAuth} ends anonymous or unknown
 * callers with UNAUTHENTICATED before any handler runs, and the {@link Caller} is put in the context
 * for authorization decisions.
 */
@GlobalInterceptor
@ApplicationScoped
public class GrpcAuthInterceptor implements ServerInterceptor {
  @Inject
  Authenticator authenticator;

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String token = BearerAuth.bearerToken(headers);
    Caller caller = token == null ? null : authenticator.authenticate(token);
    ServerCallHandler<Q, R> withCaller = (c, h) ->
        Contexts.interceptCall(Context.current().withValue(Caller.KEY, caller), c, h, next);
    return BearerAuth.interceptor(t -> caller == null ? null : caller.name()).interceptCall(call, headers, withCaller);
  }
}
