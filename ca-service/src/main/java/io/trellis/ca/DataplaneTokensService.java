package io.trellis.ca;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.trellis.api.ca.v1.DataplaneTokensGrpc.DataplaneTokensImplBase;
import io.trellis.api.ca.v1.VerificationKeys;
import io.trellis.api.ca.v1.VerificationKeysRequest;
import io.trellis.ca.auth.Caller;
import io.trellis.ca.tokens.DataplaneTokens;
import jakarta.inject.Inject;

/** gRPC {@code DataplaneTokens.WatchVerificationKeys}: public keys + revoked ids, then every change. */
@GrpcService
public class DataplaneTokensService extends DataplaneTokensImplBase {
  @Inject
  DataplaneTokens tokens;

  @Override
  public void watchVerificationKeys(VerificationKeysRequest request, StreamObserver<VerificationKeys> response) {
    Caller caller = Caller.current();
    if (caller == null || !caller.service()) {
      // only control-plane services verify tokens; a dataplane has no business listing keys
      response.onError(Status.PERMISSION_DENIED.withDescription("only local services may watch verification keys")
          .asRuntimeException());
      return;
    }
    String mesh = request.getMesh();
    if (!mesh.isEmpty() && !io.trellis.ca.pki.CaNames.valid(mesh)) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("mesh: \"" + mesh + "\" (expected: a mesh name or empty)")
          .asRuntimeException());
      return;
    }
    ServerCallStreamObserver<VerificationKeys> call = (ServerCallStreamObserver<VerificationKeys>) response;
    Object lock = new Object();
    Runnable cancel = tokens.watch(changed -> {
      if (mesh.isEmpty() || mesh.equals(changed)) {
        synchronized (lock) {
          if (!call.isCancelled()) {
            call.onNext(tokens.verificationKeys(mesh));
          }
        }
      }
    });
    call.setOnCancelHandler(cancel);
    synchronized (lock) {
      call.onNext(tokens.verificationKeys(mesh));
    }
  }
}
