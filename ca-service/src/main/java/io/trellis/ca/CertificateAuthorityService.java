package io.trellis.ca;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.trellis.api.ca.v1.CertificateAuthorityGrpc.CertificateAuthorityImplBase;
import io.trellis.api.ca.v1.SignRequest;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.ca.v1.TrustBundleRequest;
import io.trellis.ca.auth.Caller;
import jakarta.inject.Inject;

/** gRPC {@code trellis.ca.v1.CertificateAuthority}: Sign, GetTrustBundle, WatchTrustBundle. */
@GrpcService
public class CertificateAuthorityService extends CertificateAuthorityImplBase {
  @Inject
  Issuer issuer;

  @Inject
  CaRuntime runtime;

  @Override
  @Blocking
  public void sign(SignRequest request, StreamObserver<SignResponse> response) {
    try {
      response.onNext(issuer.sign(Caller.current(), request));
      response.onCompleted();
    } catch (SignRefused e) {
      response.onError(e.toStatus().asRuntimeException());
    } catch (RuntimeException e) {
      response.onError(Status.INTERNAL.withDescription("signing failed: " + e.getClass().getSimpleName()).asRuntimeException());
    }
  }

  @Override
  public void getTrustBundle(TrustBundleRequest request, StreamObserver<TrustBundle> response) {
    try {
      MeshCaRegistry.MeshState mesh = checkedMesh(request.getMesh());
      response.onNext(mesh.bundle());
      response.onCompleted();
    } catch (SignRefused e) {
      response.onError(e.toStatus().asRuntimeException());
    }
  }

  @Override
  public void watchTrustBundle(TrustBundleRequest request, StreamObserver<TrustBundle> response) {
    try {
      checkedMesh(request.getMesh());
    } catch (SignRefused e) {
      response.onError(e.toStatus().asRuntimeException());
      return;
    }
    ServerCallStreamObserver<TrustBundle> call = (ServerCallStreamObserver<TrustBundle>) response;
    Object lock = new Object();
    Runnable cancel = runtime.registry().watchBundle(request.getMesh(), bundle -> {
      synchronized (lock) {
        if (!call.isCancelled()) {
          call.onNext(bundle);
        }
      }
    });
    call.setOnCancelHandler(cancel);
  }

  private MeshCaRegistry.MeshState checkedMesh(String mesh) throws SignRefused {
    Caller caller = Caller.current();
    if (caller == null || (!caller.service() && !mesh.equals(caller.mesh()))) {
      throw SignRefused.denied("not_allowed", "caller may not read the trust bundle of mesh \"" + mesh + "\"");
    }
    return issuer.mesh(mesh);
  }
}
