package io.trellis.xds;

import static io.trellis.xds.testing.Views.endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.xds.XdsNameResolverProvider;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Await;
import io.trellis.xds.testing.FakeControlPlane;
import io.trellis.xds.testing.FakeControlPlaneResource;
import io.trellis.xds.testing.Views;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * grpc-java's own xDS client (target {@code xds:///greeter}) configured only by our ADS server: it resolves
 * the service, balances over both backends and follows an endpoint change.
 */
@QuarkusTest
@QuarkusTestResource(FakeControlPlaneResource.class)
class GrpcXdsIT {
  @TestHTTPResource("/")
  URL url;

  final List<Server> servers = new ArrayList<>();
  final List<AtomicInteger> calls = new ArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(Server::shutdownNow);
  }

  int backend() throws Exception {
    AtomicInteger counter = new AtomicInteger();
    calls.add(counter);
    HealthStatusManager health = new HealthStatusManager();
    Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(health.getHealthService(), new io.grpc.ServerInterceptor() {
          @Override
          public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata h,
              io.grpc.ServerCallHandler<Q, R> next) {
            counter.incrementAndGet();
            return next.startCall(call, h);
          }
        }))
        .build().start();
    servers.add(server);
    return server.getPort();
  }

  static ProxyView view(long version, int... ports) {
    Endpoint[] eps = java.util.Arrays.stream(ports).mapToObj(p -> endpoint("127.0.0.1", p)).toArray(Endpoint[]::new);
    return Views.of(Dataplanes.builder().name("client-1").address("127.0.0.1").inbound(50099, "client").protocol("grpc").build(),
            Meshes.defaultMesh())
        .version(version)
        .outbound("greeter", "grpc", "127.0.0.1", 10003, eps)
        .build();
  }

  Map<String, ?> bootstrap(FakeControlPlane fake) {
    return Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + url.getPort(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", "default.client-1",
            "metadata", Map.of("dataplane.token", fake.token("default", "client-1", "t-grpc-client"))));
  }

  @Test
  void resolvesBalancesAndFollowsEndpointChanges() throws Exception {
    FakeControlPlane fake = FakeControlPlaneResource.FAKE;
    int a = backend();
    int b = backend();
    int c = backend();
    fake.push(view(1, a, b));
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest("xds-trellis", bootstrap(fake));
    io.grpc.NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = Grpc.newChannelBuilder("xds-trellis:///greeter", InsecureChannelCredentials.create()).build();
    try {
      HealthGrpc.HealthBlockingStub stub = HealthGrpc.newBlockingStub(channel);
      for (int i = 0; i < 20; i++) {
        HealthCheckResponse r = stub.withDeadlineAfter(20, TimeUnit.SECONDS).withWaitForReady()
            .check(HealthCheckRequest.getDefaultInstance());
        assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      }
      assertThat(calls.get(0).get()).as("calls to backend a").isGreaterThanOrEqualTo(5);
      assertThat(calls.get(1).get()).as("calls to backend b").isGreaterThanOrEqualTo(5);
      assertThat(calls.get(2).get()).isZero();

      // endpoint change: a leaves, c joins
      fake.push(view(2, b, c));
      Await.until(Duration.ofSeconds(15), () -> {
        stub.withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        return calls.get(2).get() > 0;
      });
      int aBefore = calls.get(0).get();
      for (int i = 0; i < 20; i++) {
        stub.withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      }
      assertThat(calls.get(0).get()).as("no more calls to the removed endpoint").isEqualTo(aBefore);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      io.grpc.NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
  }
}
