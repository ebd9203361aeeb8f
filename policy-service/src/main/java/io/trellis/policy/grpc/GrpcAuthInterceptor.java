package io.trellis.policy.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.auth.ServiceTokens;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Every gRPC call must carry the local service token (fail closed: no or a wrong token is UNAUTHENTICATED).
 * Kubernetes ServiceAccount tokens (TokenReview) are not accepted yet.
 */
@GlobalInterceptor
@ApplicationScoped
// Eager: the token file must exist at start, before any call, because the other local services read it then.
@io.quarkus.runtime.Startup
public class GrpcAuthInterceptor implements ServerInterceptor {
  private final ServerInterceptor delegate;

  public GrpcAuthInterceptor(@ConfigProperty(name = "trellis.data-dir") String dataDir) {
    String token;
    try {
      token = ServiceTokens.loadOrCreate(Path.of(dataDir));
    } catch (IOException e) {
      throw new UncheckedIOException("service token in " + dataDir + " unreadable", e);
    }
    this.delegate = BearerAuth.interceptor(t -> ServiceTokens.matches(token, t) ? "local-service" : null);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return delegate.interceptCall(call, headers, next);
  }
}
