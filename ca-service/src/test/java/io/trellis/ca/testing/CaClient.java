package io.trellis.ca.testing;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.ca.v1.CertificateAuthorityGrpc;
import io.trellis.api.ca.v1.DataplaneTokensGrpc;
import io.trellis.api.ca.v1.SignRequest;
import io.trellis.api.ca.v1.Tag;
import java.net.URL;
import java.util.concurrent.TimeUnit;

/** A real gRPC client of ca-service (plaintext HTTP/2 on its one port). */
public final class CaClient implements AutoCloseable {
  public final ManagedChannel channel;

  public CaClient(URL url) {
    channel = NettyChannelBuilder.forAddress(url.getHost(), url.getPort()).usePlaintext().build();
  }

  public CertificateAuthorityGrpc.CertificateAuthorityBlockingStub ca(String token) {
    var stub = CertificateAuthorityGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    return token == null ? stub : stub.withCallCredentials(BearerAuth.credentials(token));
  }

  public CertificateAuthorityGrpc.CertificateAuthorityStub caAsync(String token) {
    return CertificateAuthorityGrpc.newStub(channel).withCallCredentials(BearerAuth.credentials(token));
  }

  public DataplaneTokensGrpc.DataplaneTokensStub tokensAsync(String token) {
    var stub = DataplaneTokensGrpc.newStub(channel);
    return token == null ? stub : stub.withCallCredentials(BearerAuth.credentials(token));
  }

  public static SignRequest request(String mesh, String csr, String... tags) {
    SignRequest.Builder b = SignRequest.newBuilder().setMesh(mesh).setCsrPem(csr);
    for (int i = 0; i < tags.length; i += 2) {
      b.addTags(Tag.newBuilder().setKey(tags[i]).setValue(tags[i + 1]));
    }
    return b.build();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
