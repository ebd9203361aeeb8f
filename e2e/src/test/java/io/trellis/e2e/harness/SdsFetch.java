package io.trellis.e2e.harness;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fetches a Dataplane's mesh identity the way Envoy does, over SDS on an ADS stream to xds-service:
 * grpc-java has no SDS client, so its {@code file_watcher} certificate provider is fed from files
 * holding exactly the secrets our SDS served.
 */
public final class SdsFetch {
  static final String SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  /** PEM files of the identity: {@code cert.pem}, {@code key.pem}, {@code ca.pem} under {@code dir}. */
  public record Identity(Path cert, Path key, Path ca, String certPem) {}

  private SdsFetch() {}

  public static Identity fetch(String xdsAddress, String mesh, String dataplane, String token, Path dir) throws Exception {
    ManagedChannel ch = Grpc.newChannelBuilder(xdsAddress, InsecureChannelCredentials.create()).build();
    try {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      CompletableFuture<DiscoveryResponse> first = new CompletableFuture<>();
      StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(ch)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse r) {
              first.complete(r);
            }

            @Override
            public void onError(Throwable t) {
              first.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
              first.completeExceptionally(new IllegalStateException("ADS stream closed before SDS answered"));
            }
          });
      requests.onNext(DiscoveryRequest.newBuilder()
          .setNode(Node.newBuilder().setId(mesh + "." + dataplane).setUserAgentName("envoy"))
          .setTypeUrl(SECRET_TYPE)
          .addResourceNames("identity_cert:secret:" + mesh)
          .addResourceNames("mesh_ca:secret:" + mesh)
          .build());
      DiscoveryResponse r = first.get(60, TimeUnit.SECONDS);
      String cert = null;
      String key = null;
      String ca = null;
      for (var any : r.getResourcesList()) {
        Secret s = any.unpack(Secret.class);
        if (s.hasTlsCertificate()) {
          cert = s.getTlsCertificate().getCertificateChain().getInlineString();
          key = s.getTlsCertificate().getPrivateKey().getInlineString();
        } else if (s.hasValidationContext()) {
          ca = s.getValidationContext().getTrustedCa().getInlineString();
        }
      }
      requests.onCompleted();
      if (cert == null || key == null || ca == null) {
        throw new IllegalStateException("SDS for " + mesh + "." + dataplane + " lacks a secret: " + r);
      }
      Files.createDirectories(dir);
      return new Identity(write(dir.resolve("cert.pem"), cert), write(dir.resolve("key.pem"), key),
          write(dir.resolve("ca.pem"), ca), cert);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Path write(Path p, String content) throws IOException {
    return Files.writeString(p, content);
  }

  /** grpc-java bootstrap entry of a {@code file_watcher} provider named as xds-service expects ({@code trellis}). */
  public static Map<String, ?> certProvider(Identity id) {
    return Map.of("trellis", Map.of("plugin_name", "file_watcher", "config", Map.of(
        "certificate_file", id.cert().toString(), "private_key_file", id.key().toString(),
        "ca_certificate_file", id.ca().toString(), "refresh_interval", "60s")));
  }
}
