package io.trellis.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.trellis.api.ca.v1.CertificateAuthorityGrpc;
import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.ca.v1.TrustBundleRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BearerAuthTest {
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    var service = new CertificateAuthorityGrpc.CertificateAuthorityImplBase() {
      @Override
      public void getTrustBundle(TrustBundleRequest req, StreamObserver<TrustBundle> out) {
        out.onNext(TrustBundle.newBuilder().setMesh(req.getMesh()).setRootsPem(BearerAuth.CALLER.get()).build());
        out.onCompleted();
      }
    };
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(service,
            BearerAuth.interceptor(t -> ServiceTokens.matches("s3cret-token", t) ? "local-service" : null)))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void anAuthenticatedCallerIsServedAndNamed() {
    TrustBundle bundle = CertificateAuthorityGrpc.newBlockingStub(channel)
        .withCallCredentials(BearerAuth.credentials("s3cret-token"))
        .getTrustBundle(TrustBundleRequest.newBuilder().setMesh("default").build());
    assertThat(bundle.getRootsPem()).isEqualTo("local-service");
  }

  @Test
  void anAnonymousCallerGetsUnauthenticated() {
    assertThatThrownBy(() -> CertificateAuthorityGrpc.newBlockingStub(channel)
            .getTrustBundle(TrustBundleRequest.newBuilder().setMesh("default").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("authorization: missing");
        });
  }

  @Test
  void aWrongTokenGetsUnauthenticated() {
    assertThatThrownBy(() -> CertificateAuthorityGrpc.newBlockingStub(channel)
            .withCallCredentials(BearerAuth.credentials("wrong"))
            .getTrustBundle(TrustBundleRequest.newBuilder().setMesh("default").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }
}
