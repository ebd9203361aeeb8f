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

  @Test
  void resolvesBalancesAndFollowsEndpointChanges() throws Exception {
    FakeControlPlane fake = FakeControlPlaneResource.FAKE;
    int a = backend();
    int b = backend();
    int c = backend();
    fake.push(view(1, a, b));
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest("xds-trellis",
        bootstrap("default.client-1", fake.token("default", "client-1", "t-grpc-client"), Map.of()));
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

  static ProxyView routedView(String name, long version, String pathRegex, int... ports) {
    Endpoint[] eps = java.util.Arrays.stream(ports).mapToObj(p -> endpoint("127.0.0.1", p)).toArray(Endpoint[]::new);
    return Views.of(Dataplanes.builder().name(name).address("127.0.0.1").inbound(50098, "nack-client").protocol("grpc").build(),
            Meshes.defaultMesh())
        .version(version)
        .outbound("greeter", "grpc", "127.0.0.1", 10003, eps)
        .outboundRules(Views.rules("MeshHTTPRoute", Views.conf("{\"rules\":[{\"matches\":[{\"path\":{\"type\":"
            + "\"RegularExpression\",\"value\":\"" + pathRegex + "\"}}],\"default\":{}}]}")))
        .build();
  }

  /**
   * A route grpc-java cannot accept (an invalid RE2 regex) is NACKed: the NACK is logged with the proxy and
   * the rejected resource and counted, the client keeps serving with its last accepted config, and the
   * next good change reaches it.
   */
  @Test
  void nackedRouteKeepsTheLastAcceptedConfig() throws Exception {
    FakeControlPlane fake = FakeControlPlaneResource.FAKE;
    int a = backend();
    int c = backend();
    fake.push(routedView("nack-1", 1, "/grpc\\\\.health.*", a));
    java.util.List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler capture = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        warnings.add(String.valueOf(r.getParameters() == null ? r.getMessage()
            : String.format(r.getMessage(), r.getParameters())));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    java.util.logging.Logger log = java.util.logging.Logger.getLogger(XdsCallbacks.class.getName());
    log.addHandler(capture);
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest("xds-nack",
        bootstrap("default.nack-1", fake.token("default", "nack-1", "t-nack"), Map.of()));
    io.grpc.NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = Grpc.newChannelBuilder("xds-nack:///greeter", InsecureChannelCredentials.create()).build();
    try {
      HealthGrpc.HealthBlockingStub stub = HealthGrpc.newBlockingStub(channel);
      stub.withDeadlineAfter(20, TimeUnit.SECONDS).withWaitForReady().check(HealthCheckRequest.getDefaultInstance());
      String before = metric("trellis_xds_nacks_total\\{mesh=\"default\",type=\"RouteConfiguration\"\\} ([0-9.]+)");
      // v2: the regex does not compile (RE2) and the endpoint moves to c
      fake.push(routedView("nack-1", 2, "/grpc(", c));
      Await.until(Duration.ofSeconds(15), () -> !metric("trellis_xds_nacks_total\\{mesh=\"default\",type=\"RouteConfiguration\"\\} ([0-9.]+)")
          .equals(before));
      Await.until(Duration.ofSeconds(5), () -> warnings.stream().anyMatch(w -> w.contains("NACK from proxy default.nack-1")
          && w.contains("RouteConfiguration") && w.contains("outbound:greeter")));
      // the client still routes with its last accepted route (EDS was accepted on its own: calls reach c)
      for (int i = 0; i < 5; i++) {
        assertThat(stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      }
      int cBefore = calls.get(1).get();
      // v3 repairs the route and sends c away, back to a: the client follows
      fake.push(routedView("nack-1", 3, "/grpc\\\\.health.*", a));
      int aBefore = calls.get(0).get();
      Await.until(Duration.ofSeconds(15), () -> {
        stub.withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        return calls.get(0).get() > aBefore;
      });
      assertThat(cBefore).as("v2's endpoint change was served").isPositive();
    } finally {
      log.removeHandler(capture);
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      io.grpc.NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
  }

  static String metric(String pattern) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(pattern)
        .matcher(io.restassured.RestAssured.given().get("/q/metrics").asString());
    return m.find() ? m.group(1) : "0";
  }

  /** Writes PEM files for a grpc-java file_watcher certificate provider and returns its bootstrap entry. */
  static Map<String, ?> certProvider(java.nio.file.Path dir, String certPem, String keyPem, String rootsPem) throws Exception {
    java.nio.file.Files.createDirectories(dir);
    java.nio.file.Path cert = java.nio.file.Files.writeString(dir.resolve("cert.pem"), certPem);
    java.nio.file.Path key = java.nio.file.Files.writeString(dir.resolve("key.pem"), keyPem);
    java.nio.file.Path ca = java.nio.file.Files.writeString(dir.resolve("ca.pem"), rootsPem);
    return Map.of("trellis", Map.of("plugin_name", "file_watcher", "config", Map.of(
        "certificate_file", cert.toString(), "private_key_file", key.toString(), "ca_certificate_file", ca.toString(),
        "refresh_interval", "60s")));
  }

  Map<String, ?> bootstrap(String nodeId, String token, Map<String, ?> certProviders) {
    return Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + url.getPort(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", nodeId, "metadata", Map.of("dataplane.token", token)),
        "server_listener_resource_name_template", "trellis/inbound/%s",
        "certificate_providers", certProviders);
  }

  /** The identity our SDS serves for a service (through an Envoy-like ADS stream of a node of that service). */
  String[] identityFromSds(FakeControlPlane fake, String dataplane, String service) throws Exception {
    fake.push(Views.of(Dataplanes.builder().name(dataplane).address("127.0.0.1").inbound(50097, service).build(),
        Meshes.builder().builtinMtls("ca-1").build()).build());
    ManagedChannel ch = Grpc.newChannelBuilderForAddress("127.0.0.1", url.getPort(), InsecureChannelCredentials.create()).build();
    try (var ads = io.trellis.xds.testing.AdsClient.sotw(ch, "default." + dataplane, fake.token("default", dataplane, "t-" + dataplane))) {
      ads.request(io.envoyproxy.controlplane.cache.Resources.V3.SECRET_TYPE_URL, "", "",
          "identity_cert:secret:default", "mesh_ca:secret:default");
      var sds = ads.next(io.envoyproxy.controlplane.cache.Resources.V3.SECRET_TYPE_URL, 15);
      assertThat(sds).isNotNull();
      String cert = null;
      String key = null;
      String roots = null;
      for (var any : sds.getResourcesList()) {
        var secret = any.unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.class);
        if (secret.hasTlsCertificate()) {
          cert = secret.getTlsCertificate().getCertificateChain().getInlineString();
          key = secret.getTlsCertificate().getPrivateKey().getInlineString();
        } else {
          roots = secret.getValidationContext().getTrustedCa().getInlineString();
        }
      }
      return new String[] {cert, key, roots};
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void xdsServerEnforcesOurRbacOverMutualTls() throws Exception {
    FakeControlPlane fake = FakeControlPlaneResource.FAKE;
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("xds-mtls");
    var mtlsMesh = Meshes.builder().builtinMtls("ca-1").build();
    // server: Dataplane greeter-1, only client-ok may call it
    fake.push(Views.of(Dataplanes.builder().name("greeter-1").address("127.0.0.1").inbound(port, "greeter").protocol("grpc").build(), mtlsMesh)
        .inboundRules(port, Views.rules("MeshTrafficPermission",
            Views.subset("{\"action\":\"Allow\"}", "kuma.io/service", "client-ok")))
        .build());
    String[] serverId = identityFromSds(fake, "greeter-sds", "greeter");
    Server server = io.grpc.xds.XdsServerBuilder.forPort(port,
            io.grpc.xds.XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap("default.greeter-1", fake.token("default", "greeter-1", "t-greeter"),
            certProvider(dir.resolve("server"), serverId[0], serverId[1], serverId[2])))
        .addService(new HealthStatusManager().getHealthService())
        .build().start();
    servers.add(server);
    try {
      assertThat(call(fake, dir, "client-ok", port)).isEqualTo(io.grpc.Status.Code.OK);
      assertThat(call(fake, dir, "client-bad", port)).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
    } finally {
      server.shutdownNow();
    }
  }

  /** One call from a proxyless client of {@code service}, configured by our xDS (mTLS to greeter). */
  io.grpc.Status.Code call(FakeControlPlane fake, java.nio.file.Path dir, String service, int greeterPort) throws Exception {
    String dataplane = service + "-1";
    fake.push(Views.of(Dataplanes.builder().name(dataplane).address("127.0.0.1").inbound(50096, service).protocol("grpc").build(),
            Meshes.builder().builtinMtls("ca-1").build())
        .outbound("greeter", "grpc", "127.0.0.1", 10003, endpoint("127.0.0.1", greeterPort))
        .build());
    // the client's certificate comes from our SDS too (signed by ca-service for its service)
    String[] id = identityFromSds(fake, service + "-sds", service);
    String scheme = "xds-" + service;
    XdsNameResolverProvider resolver = XdsNameResolverProvider.createForTest(scheme,
        bootstrap("default." + dataplane, fake.token("default", dataplane, "t-" + dataplane),
            certProvider(dir.resolve(service), id[0], id[1], id[2])));
    io.grpc.NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///greeter",
        io.grpc.xds.XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    try {
      HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).withWaitForReady()
          .check(HealthCheckRequest.getDefaultInstance());
      return io.grpc.Status.Code.OK;
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      io.grpc.NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
  }
}
