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
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import io.trellis.e2e.harness.Await;
import io.trellis.e2e.harness.ControlPlane;
import io.trellis.e2e.harness.Processes;
import io.trellis.e2e.harness.SdsFetch;
import java.nio.file.Path;
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
 * REST API moves its calls within seconds. With mesh mTLS, proxyless clients and an xDS-enabled server
 * use the identities our SDS serves, and the server enforces the MeshTrafficPermission we translated.
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
        Processes.freePort()));

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

  @Test
  void aTokenIssuedForAnotherDataplaneGetsNoConfig() throws Exception {
    cp.put("/meshes/default", "{\"type\":\"Mesh\",\"name\":\"default\"}");
    cp.put("/meshes/default/dataplanes/intruder-1", """
        {"type":"Dataplane","mesh":"default","name":"intruder-1","networking":{"address":"127.0.0.1",
         "inbound":[{"port":%d,"tags":{"kuma.io/service":"intruder"}}],
         "outbound":[{"port":10004,"tags":{"kuma.io/service":"greeter"}}]}}""".formatted(Processes.freePort()));
    // a valid token, but for intruder-1: it must not obtain the config of the node it claims to be
    String scheme = "xds-intruder";
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest(scheme,
        bootstrap("default.client-1", cp.dataplaneToken("default", "intruder-1")));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///greeter", InsecureChannelCredentials.create()).build();
    int before = backends.values().stream().mapToInt(b -> b.calls().get()).sum();
    try {
      io.grpc.StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(
          io.grpc.StatusRuntimeException.class,
          () -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
              .check(HealthCheckRequest.getDefaultInstance()));
      assertThat(e).as("the call must fail without config").isNotNull();
      assertThat(backends.values().stream().mapToInt(b -> b.calls().get()).sum()).isEqualTo(before);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
    Await.until(Duration.ofSeconds(10), "xds-service logs the refused stream", () ->
        cp.log("xds-service").contains("ADS stream refused (node default.client-1): PERMISSION_DENIED"));
  }

  static int calls(String backend) {
    return backends.get(backend).calls().get();
  }

  static Map<String, ?> bootstrap(String nodeId, String token) {
    return bootstrap(nodeId, token, Map.of());
  }

  /**
   * grpc-java bootstrap for one client or server: our xds-service, the node id naming its Dataplane, its
   * dataplane token, and the certificate provider our mTLS config points at.
   */
  static Map<String, ?> bootstrap(String nodeId, String token, Map<String, ?> certProviders) {
    return Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", cp.xdsAddress(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", nodeId, "metadata", Map.of("dataplane.token", token)),
        "server_listener_resource_name_template", "trellis/inbound/%s",
        "certificate_providers", certProviders);
  }

  static String dataplane(String mesh, String name, int port, String service, boolean ready, boolean toGreeter) {
    return """
        {"type":"Dataplane","mesh":"%s","name":"%s","networking":{"address":"127.0.0.1",
         "inbound":[{"port":%d,"tags":{"kuma.io/service":"%s","kuma.io/protocol":"grpc"},"health":{"ready":%s}}]%s}}"""
        .formatted(mesh, name, port, service, ready,
            toGreeter ? ",\"outbound\":[{\"port\":10003,\"tags\":{\"kuma.io/service\":\"greeter\"}}]" : "");
  }

  /**
   * The identity xds-service's SDS serves for {@code service}, fetched as an Envoy would for a second
   * Dataplane of that service ({@code <service>-sds}). A separate Dataplane because xds-service keys a
   * session's client kind (Envoy or proxyless) by node; the SAN depends on the service only.
   */
  static SdsFetch.Identity identity(String mesh, String service, Path dir) throws Exception {
    String name = service + "-sds";
    // not ready: its endpoint must never receive traffic
    cp.put("/meshes/" + mesh + "/dataplanes/" + name, dataplane(mesh, name, Processes.freePort(), service, false, false));
    return SdsFetch.fetch(cp.xdsAddress(), mesh, name, cp.dataplaneToken(mesh, name), dir.resolve(service));
  }

  static List<String> uriSans(String pem) throws Exception {
    var cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
        .generateCertificate(new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    return cert.getSubjectAlternativeNames().stream().filter(san -> (Integer) san.get(0) == 6)
        .map(san -> (String) san.get(1)).toList();
  }

  @Test
  void proxylessMtlsWithSdsIdentitiesEnforcesMeshTrafficPermission() throws Exception {
    cp.put("/meshes/secure", """
        {"type":"Mesh","name":"secure","mtls":{"enabledBackend":"ca-1","backends":[{"name":"ca-1","type":"builtin"}]}}""");
    int port = Processes.freePort();
    cp.put("/meshes/secure/dataplanes/greeter-1", dataplane("secure", "greeter-1", port, "greeter", true, false));
    cp.put("/meshes/secure/meshtrafficpermissions/allow-client-ok", """
        {"type":"MeshTrafficPermission","mesh":"secure","name":"allow-client-ok","spec":{
          "targetRef":{"kind":"MeshService","name":"greeter"},
          "from":[{"targetRef":{"kind":"MeshSubset","tags":{"kuma.io/service":"client-ok"}},"default":{"action":"Allow"}}]}}""");
    Path dir = java.nio.file.Files.createTempDirectory(cp.processes.dataDir(), "mtls");

    SdsFetch.Identity serverId = identity("secure", "greeter", dir);
    assertThat(uriSans(serverId.certPem())).contains("spiffe://secure/greeter");
    AtomicInteger served = new AtomicInteger();
    Server server = XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap("secure.greeter-1", cp.dataplaneToken("secure", "greeter-1"),
            SdsFetch.certProvider(serverId)))
        .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(), new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
              ServerCallHandler<Q, R> next) {
            served.incrementAndGet();
            return next.startCall(call, headers);
          }
        }))
        .build().start();
    try {
      assertThat(mtlsCall("client-ok", dir)).as("client-ok is allowed by the MeshTrafficPermission")
          .isEqualTo(io.grpc.Status.Code.OK);
      assertThat(mtlsCall("client-bad", dir)).as("client-bad has a valid mesh identity but no permission")
          .isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
      assertThat(served.get()).as("only the allowed call reached the service").isEqualTo(1);
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** One call from a proxyless client of {@code service} over mTLS with its SDS identity, as our xDS configures it. */
  static io.grpc.Status.Code mtlsCall(String service, Path dir) throws Exception {
    String name = service + "-1";
    cp.put("/meshes/secure/dataplanes/" + name, dataplane("secure", name, Processes.freePort(), service, true, true));
    SdsFetch.Identity id = identity("secure", service, dir);
    assertThat(uriSans(id.certPem())).contains("spiffe://secure/" + service);
    String scheme = "xds-" + service;
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest(scheme,
        bootstrap("secure." + name, cp.dataplaneToken("secure", name), SdsFetch.certProvider(id)));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///greeter",
        XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    try {
      HealthGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).withWaitForReady()
          .check(HealthCheckRequest.getDefaultInstance());
      return io.grpc.Status.Code.OK;
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
  }
}
