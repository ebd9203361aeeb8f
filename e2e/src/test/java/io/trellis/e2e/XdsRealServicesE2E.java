package io.trellis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.xds.XdsNameResolverProvider;
import io.trellis.e2e.harness.Await;
import io.trellis.e2e.harness.ControlPlane;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 5, with the real services: grpc-java's own xDS client ({@code xds:///greeter}), configured only
 * by our xds-service, which builds its config from policy-service's view of Dataplanes created over the
 * REST API. The client balances over both registered backends; a Dataplane added or deleted through the
 * REST API moves its calls within seconds.
 */
class XdsRealServicesE2E {
  static ControlPlane cp;
  static final Map<String, Backend> backends = new LinkedHashMap<>();

  record Backend(Server server, AtomicInteger calls) {
    int port() {
      return server.getPort();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    cp = ControlPlane.start("XdsRealServicesE2E");
    for (String name : List.of("greeter-a", "greeter-b", "greeter-c")) {
      backends.put(name, backend());
    }
  }

  @AfterAll
  static void stop() {
    backends.values().forEach(b -> b.server().shutdownNow());
    if (cp != null) {
      cp.close();
    }
  }

  /** A plain grpc-java server (the standard health service) that counts the calls it serves. */
  static Backend backend() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(), new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
              ServerCallHandler<Q, R> next) {
            calls.incrementAndGet();
            return next.startCall(call, headers);
          }
        }))
        .build().start();
    return new Backend(server, calls);
  }

  static String greeterDataplane(String name) {
    return """
        {"type":"Dataplane","mesh":"default","name":"%s","networking":{"address":"127.0.0.1",
         "inbound":[{"port":%d,"tags":{"kuma.io/service":"greeter","kuma.io/protocol":"grpc"}}]}}"""
        .formatted(name, backends.get(name).port());
  }

  @Test
  void grpcXdsClientBalancesOverRestRegisteredBackendsAndFollowsChanges() throws Exception {
    cp.put("/meshes/default", "{\"type\":\"Mesh\",\"name\":\"default\"}");
    cp.put("/meshes/default/dataplanes/greeter-a", greeterDataplane("greeter-a"));
    cp.put("/meshes/default/dataplanes/greeter-b", greeterDataplane("greeter-b"));
    cp.put("/meshes/default/dataplanes/client-1", """
        {"type":"Dataplane","mesh":"default","name":"client-1","networking":{"address":"127.0.0.1",
         "inbound":[{"port":%d,"tags":{"kuma.io/service":"client","kuma.io/protocol":"grpc"}}],
         "outbound":[{"port":10003,"tags":{"kuma.io/service":"greeter"}}]}}""".formatted(
        io.trellis.e2e.harness.Processes.freePort()));

    String scheme = "xds-e2e";
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest(scheme,
        bootstrap("default.client-1", cp.dataplaneToken("default", "client-1")));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///greeter", InsecureChannelCredentials.create()).build();
    try {
      HealthGrpc.HealthBlockingStub stub = HealthGrpc.newBlockingStub(channel);
      HealthCheckResponse first = stub.withDeadlineAfter(60, TimeUnit.SECONDS).withWaitForReady()
          .check(HealthCheckRequest.getDefaultInstance());
      assertThat(first.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      for (int i = 0; i < 19; i++) {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      }
      assertThat(calls("greeter-a")).as("calls to greeter-a of 20 (round robin)").isGreaterThanOrEqualTo(5);
      assertThat(calls("greeter-b")).as("calls to greeter-b of 20 (round robin)").isGreaterThanOrEqualTo(5);
      assertThat(calls("greeter-c")).as("greeter-c is not registered yet").isZero();

      // A new Dataplane of the service, through the REST API: it gets traffic within seconds.
      long t0 = System.nanoTime();
      cp.put("/meshes/default/dataplanes/greeter-c", greeterDataplane("greeter-c"));
      Await.until(Duration.ofSeconds(15), "greeter-c receives calls after its Dataplane was created", () -> {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        return calls("greeter-c") > 0;
      });
      Duration added = Duration.ofNanos(System.nanoTime() - t0);

      // Deleting a Dataplane takes its endpoint out of the client's rotation.
      t0 = System.nanoTime();
      cp.delete("/meshes/default/dataplanes/greeter-a");
      Await.until(Duration.ofSeconds(15), "greeter-a gets no calls after its Dataplane was deleted", () -> {
        int before = calls("greeter-a");
        for (int i = 0; i < 9; i++) {
          stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        }
        return calls("greeter-a") == before;
      });
      Duration removed = Duration.ofNanos(System.nanoTime() - t0);
      int a = calls("greeter-a");
      int b = calls("greeter-b");
      int c = calls("greeter-c");
      for (int i = 0; i < 20; i++) {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      }
      assertThat(calls("greeter-a")).as("no calls to the deleted greeter-a").isEqualTo(a);
      assertThat(calls("greeter-b") - b).as("greeter-b's share of 20").isGreaterThanOrEqualTo(5);
      assertThat(calls("greeter-c") - c).as("greeter-c's share of 20").isGreaterThanOrEqualTo(5);
      System.out.printf("XdsRealServicesE2E: endpoint added -> traffic in %d ms, removed -> no traffic in %d ms%n",
          added.toMillis(), removed.toMillis());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
  }

  static int calls(String backend) {
    return backends.get(backend).calls().get();
  }

  /** grpc-java bootstrap for one client: our xds-service, the node id naming its Dataplane, its token. */
  static Map<String, ?> bootstrap(String nodeId, String token) {
    return Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", cp.xdsAddress(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", nodeId, "metadata", Map.of("dataplane.token", token)));
  }
}
