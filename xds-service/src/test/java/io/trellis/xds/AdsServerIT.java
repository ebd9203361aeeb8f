package io.trellis.xds;

import static io.restassured.RestAssured.given;
import static io.trellis.xds.testing.Views.endpoint;
import static io.trellis.xds.testing.Views.conf;
import static io.trellis.xds.testing.Views.rules;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.AdsClient;
import io.trellis.xds.testing.Await;
import io.trellis.xds.testing.FakeControlPlane;
import io.trellis.xds.testing.FakeControlPlaneResource;
import io.trellis.xds.testing.Views;
import java.io.ByteArrayInputStream;
import java.net.URL;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ADS server with real gRPC clients, against fakes of policy-service and ca-service. */
@QuarkusTest
@QuarkusTestResource(FakeControlPlaneResource.class)
class AdsServerIT {
  @TestHTTPResource("/")
  URL url;

  ManagedChannel channel;
  FakeControlPlane fake;

  @BeforeEach
  void setUp() {
    fake = FakeControlPlaneResource.FAKE;
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", url.getPort()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static ProxyView plainView(String name, long version, String... endpointIps) {
    var eps = java.util.Arrays.stream(endpointIps).map(ip -> endpoint(ip, 8080)).toArray(io.trellis.api.policy.v1.Endpoint[]::new);
    return Views.of(Dataplanes.builder().name(name).address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
            Meshes.defaultMesh())
        .version(version)
        .outbound("backend", "http", "127.0.0.1", 10001, eps)
        .build();
  }

  @Test
  void readyWhenDependenciesAreReachable() throws Exception {
    Await.untilAsserted(Duration.ofSeconds(10), () ->
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
  }

  @Test
  void refusesStreamWithoutToken() throws Exception {
    try (AdsClient ads = AdsClient.sotw(channel, "default.web-1", null)) {
      ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
      Status status = ads.closed.get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).contains("dataplane token: missing");
      assertThat(ads.responses).isEmpty();
    }
  }

  @Test
  void refusesTokenOfAnotherDataplane() throws Exception {
    fake.push(plainView("web-1", 1, "10.0.0.2"));
    try (AdsClient ads = AdsClient.sotw(channel, "default.web-1", fake.token("default", "other-1", "t-other"))) {
      ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
      Status status = ads.closed.get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(ads.responses).isEmpty();
    }
  }

  @Test
  void refusesForgedAndRevokedTokens() throws Exception {
    String token = fake.token("default", "web-1", "t-revoked");
    String forged = token.substring(0, token.lastIndexOf('.') + 1) + "AAAA" + token.substring(token.lastIndexOf('.') + 5);
    try (AdsClient ads = AdsClient.sotw(channel, "default.web-1", forged)) {
      ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
      assertThat(ads.closed.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    fake.revoke("t-revoked");
    // revocation reaches xds-service asynchronously: retry until a fresh stream is refused
    Await.untilAsserted(Duration.ofSeconds(20), () -> {
      try (AdsClient ads = AdsClient.sotw(channel, "default.web-1", token)) {
        ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
        Status status = ads.closed.get(2, TimeUnit.SECONDS);
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(status.getDescription()).contains("revoked");
      }
    });
  }

  @Test
  void servesOnlyConnectedProxiesAndNeverAnEmptySnapshot() throws Exception {
    assertThat(fake.watchers("default", "late-1")).isZero();
    try (AdsClient ads = AdsClient.sotw(channel, "default.late-1", fake.token("default", "late-1", "t-late"))) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
      // connected: its view is watched, but nothing is sent while there is no view yet
      Await.until(Duration.ofSeconds(10), () -> fake.watchers("default", "late-1") == 1);
      assertThat(ads.next(1)).isNull();
      fake.push(plainView("late-1", 1, "10.0.0.2"));
      DiscoveryResponse clusters = ads.next(Resources.V3.CLUSTER_TYPE_URL, 10);
      assertThat(clusters).isNotNull();
      assertThat(clusters.getResourcesList()).extracting(a -> a.unpack(Cluster.class).getName())
          .containsExactlyInAnyOrder("backend", "localhost:8080");
    }
    // disconnected: the view watch ends
    Await.until(Duration.ofSeconds(10), () -> fake.watchers("default", "late-1") == 0);
  }

  /**
   * Regression guard for a lock-order deadlock seen once in CI: an ADS stream's completion (under the stream's lock)
   * closed the proxy's session (its lock) while a view being pushed held the session's lock and waited for the
   * stream's lock to send. Streams of one node are half-closed while its views change as fast as they can; no
   * thread may end up in a Java-level deadlock, and a new stream must still get the latest config.
   */
  @Test
  void streamsClosingWhileViewsArePushedNeverDeadlock() throws Exception {
    String token = fake.token("default", "race-1", "t-race");
    fake.push(plainView("race-1", 1, "10.0.0.2"));
    java.util.concurrent.atomic.AtomicBoolean pushing = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong(1);
    Thread pusher = new Thread(() -> {
      while (pushing.get()) {
        long v = version.incrementAndGet();
        fake.push(plainView("race-1", v, "10.0.0." + (2 + v % 200)));
      }
    }, "view-pusher");
    pusher.start();
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    try {
      for (int i = 0; i < 40; i++) {
        List<AdsClient> streams = new java.util.ArrayList<>();
        for (int k = 0; k < 1 + i % 3; k++) {
          AdsClient ads = AdsClient.sotw(channel, "default.race-1", token);
          ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
          ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
          streams.add(ads);
        }
        streams.get(0).next(Resources.V3.CLUSTER_TYPE_URL, 2);
        streams.forEach(AdsClient::close);
        long[] deadlocked = threads.findDeadlockedThreads();
        assertThat(deadlocked).as(() -> "deadlocked threads:\n" + dump(threads, deadlocked)).isNull();
      }
    } finally {
      pushing.set(false);
      pusher.join(5_000);
    }
    Thread.sleep(500);
    long[] deadlocked = threads.findDeadlockedThreads();
    assertThat(deadlocked).as(() -> "deadlocked threads:\n" + dump(threads, deadlocked)).isNull();
    long last = version.get() + 1;
    fake.push(plainView("race-1", last, "10.0.0.250"));
    try (AdsClient ads = AdsClient.sotw(channel, "default.race-1", token)) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, "", "");
      assertThat(ads.next(Resources.V3.CLUSTER_TYPE_URL, 10)).as("a new stream still gets config").isNotNull();
    }
  }

  static String dump(java.lang.management.ThreadMXBean threads, long[] ids) {
    if (ids == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (java.lang.management.ThreadInfo t : threads.getThreadInfo(ids, true, true)) {
      b.append(t);
    }
    return b.toString();
  }

  @Test
  void stateOfTheWorldFollowsViewChangesAndCountsNacks() throws Exception {
    fake.push(plainView("sotw-1", 1, "10.0.0.2"));
    try (AdsClient ads = AdsClient.sotwWithMetadataToken(channel, "default.sotw-1", fake.token("default", "sotw-1", "t-sotw"))) {
      ads.request(Resources.V3.LISTENER_TYPE_URL, "", "");
      DiscoveryResponse lds = ads.next(Resources.V3.LISTENER_TYPE_URL, 10);
      assertThat(lds).isNotNull();
      assertThat(lds.getResourcesList()).extracting(a -> a.unpack(Listener.class).getName())
          .containsExactlyInAnyOrder("inbound:10.0.0.1:8080", "outbound:127.0.0.1:10001");
      // NACK: logged and counted
      ads.send(DiscoveryRequest.newBuilder().setTypeUrl(Resources.V3.LISTENER_TYPE_URL).setVersionInfo("")
          .setResponseNonce(lds.getNonce()).setErrorDetail(com.google.rpc.Status.newBuilder().setMessage("bad listener")).build());
      Await.untilAsserted(Duration.ofSeconds(5), () -> assertThat(given().get("/q/metrics").asString())
          .containsPattern("trellis_xds_nacks_total\\{mesh=\"default\",type=\"Listener\"\\} [1-9]"));
      // the rejected config is not resent (no NACK loop); the next change is
      assertThat(ads.next(Resources.V3.LISTENER_TYPE_URL, 1)).isNull();
      // a listener change (new outbound) is pushed
      fake.push(Views.of(Dataplanes.builder().name("sotw-1").address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
              Meshes.defaultMesh()).version(2)
          .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080))
          .outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432)).build());
      DiscoveryResponse lds2;
      do {
        lds2 = ads.next(Resources.V3.LISTENER_TYPE_URL, 10);
        assertThat(lds2).isNotNull();
      } while (lds2.getResourcesCount() != 3);
      assertThat(lds2.getVersionInfo()).isNotEqualTo(lds.getVersionInfo());
    }
  }

  @Test
  void deltaXdsServesAndUpdatesEndpoints() throws Exception {
    fake.push(plainView("delta-1", 1, "10.0.0.2"));
    try (AdsClient ads = AdsClient.delta(channel, "default.delta-1", fake.token("default", "delta-1", "t-delta"))) {
      ads.subscribeDelta(Resources.V3.ENDPOINT_TYPE_URL, "backend");
      DeltaDiscoveryResponse first = ads.deltaResponses.poll(10, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      assertThat(first.getResources(0).getResource().unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class)
          .getEndpoints(0).getLbEndpointsCount()).isEqualTo(1);
      ads.sendDelta(io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest.newBuilder()
          .setTypeUrl(Resources.V3.ENDPOINT_TYPE_URL).setResponseNonce(first.getNonce()).build());
      fake.push(plainView("delta-1", 2, "10.0.0.2", "10.0.0.3"));
      DeltaDiscoveryResponse second = ads.deltaResponses.poll(10, TimeUnit.SECONDS);
      assertThat(second).isNotNull();
      assertThat(second.getResources(0).getResource().unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class)
          .getEndpoints(0).getLbEndpointsCount()).isEqualTo(2);
    }
  }

  static ProxyView deltaView(String name, long version, String backendIp, boolean withDb) {
    Views.Builder b = Views.of(Dataplanes.builder().name(name).address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
            Meshes.defaultMesh()).version(version)
        .outbound("backend", "http", "127.0.0.1", 10001, endpoint(backendIp, 8080));
    if (withDb) {
      b.outbound("db", "tcp", "127.0.0.1", 10002, endpoint("10.0.0.4", 5432));
    }
    return b.build();
  }

  static java.util.Map<String, DeltaDiscoveryResponse> byResource(AdsClient ads, int count) throws Exception {
    java.util.Map<String, DeltaDiscoveryResponse> got = new java.util.HashMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (got.size() < count && System.nanoTime() < deadline) {
      DeltaDiscoveryResponse r = ads.deltaResponses.poll(1, TimeUnit.SECONDS);
      if (r != null) {
        r.getResourcesList().forEach(res -> got.put(res.getName(), r));
        ads.sendDelta(io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce()).build());
      }
    }
    return got;
  }

  /**
   * Delta (incremental) xDS, the protocol points Envoy relies on: only changed resources are sent, a
   * resource that disappears is named in removed_resources, and a reconnecting client that reports the
   * versions it has (initial_resource_versions) is not sent them again.
   */
  @Test
  void deltaXdsSendsOnlyChangesRemovalsAndResumes() throws Exception {
    fake.push(deltaView("delta-2", 1, "10.0.0.2", true));
    String token = fake.token("default", "delta-2", "t-delta-2");
    java.util.Map<String, String> versions = new java.util.HashMap<>();
    try (AdsClient ads = AdsClient.delta(channel, "default.delta-2", token)) {
      ads.subscribeDelta(Resources.V3.CLUSTER_TYPE_URL, "*");
      var first = byResource(ads, 3);
      assertThat(first.keySet()).containsExactlyInAnyOrder("backend", "db", "localhost:8080");
      first.values().forEach(r -> r.getResourcesList().forEach(res -> versions.put(res.getName(), res.getVersion())));
      // db goes away: only its removal is sent
      fake.push(deltaView("delta-2", 2, "10.0.0.2", false));
      DeltaDiscoveryResponse removal = ads.deltaResponses.poll(15, TimeUnit.SECONDS);
      assertThat(removal).isNotNull();
      assertThat(removal.getRemovedResourcesList()).containsExactly("db");
      assertThat(removal.getResourcesList()).isEmpty();
      versions.remove("db");
    }
    // Resume: java-control-plane 1.0.49 does not honour initial_resource_versions, so a reconnecting client
    // gets the current set again; it is the same set at the same versions (nothing stale, db stays gone),
    // which Envoy applies as a no-op.
    try (AdsClient ads = AdsClient.delta(channel, "default.delta-2", token)) {
      ads.sendDelta(io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest.newBuilder().setNode(ads.node)
          .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL).addResourceNamesSubscribe("*").putAllInitialResourceVersions(versions).build());
      DeltaDiscoveryResponse r = ads.deltaResponses.poll(15, TimeUnit.SECONDS);
      assertThat(r).isNotNull();
      java.util.Map<String, String> resent = new java.util.HashMap<>();
      r.getResourcesList().forEach(res -> resent.put(res.getName(), res.getVersion()));
      assertThat(resent).isEqualTo(versions);
    }
  }

  @Test
  void mtlsIdentityIsSignedByTheCaAndServedOverSds() throws Exception {
    ProxyView view = Views.of(Dataplanes.builder().name("tls-1").address("10.0.0.1").inbound(8080, "web").protocol("http")
            .tag("version", "v1").build(), Meshes.builder().builtinMtls("ca-1").build())
        .inboundRules(8080, rules("MeshTrafficPermission", conf("{\"action\":\"Allow\"}")))
        .outbound("backend", "http", "127.0.0.1", 10001, endpoint("10.0.0.2", 8080)).build();
    fake.push(view);
    try (AdsClient ads = AdsClient.sotw(channel, "default.tls-1", fake.token("default", "tls-1", "t-tls"))) {
      ads.request(Resources.V3.SECRET_TYPE_URL, "", "", "identity_cert:secret:default", "mesh_ca:secret:default");
      DiscoveryResponse sds = ads.next(Resources.V3.SECRET_TYPE_URL, 15);
      assertThat(sds).isNotNull();
      List<Secret> secrets = sds.getResourcesList().stream().map(a -> {
        try {
          return a.unpack(Secret.class);
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }).toList();
      Secret identity = secrets.stream().filter(s -> s.getName().equals("identity_cert:secret:default")).findFirst().orElseThrow();
      X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
          new ByteArrayInputStream(identity.getTlsCertificate().getCertificateChain().getInlineString().getBytes()));
      leaf.verify(fake.root.getPublicKey());
      assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
          .contains("spiffe://default/web", "kuma://version/v1");
      assertThat(identity.getTlsCertificate().getPrivateKey().getInlineString()).contains("PRIVATE KEY");
      Secret ca = secrets.stream().filter(s -> s.getName().equals("mesh_ca:secret:default")).findFirst().orElseThrow();
      assertThat(ca.getValidationContext().getTrustedCa().getInlineString()).isEqualTo(fake.rootPem);
    }
  }

  @Test
  void certificateIsRenewedAfterEightyPercentOfItsLifetime() throws Exception {
    // long enough that a loaded CI machine still renews before expiry (renewal at 16 s, expiry at 20 s)
    fake.certLifetime.set(Duration.ofSeconds(20));
    try {
      ProxyView view = Views.of(Dataplanes.builder().name("renew-1").address("10.0.0.1").inbound(8080, "api").build(),
          Meshes.builder().builtinMtls("ca-1").build()).build();
      fake.push(view);
      try (AdsClient ads = AdsClient.sotw(channel, "default.renew-1", fake.token("default", "renew-1", "t-renew"))) {
        ads.request(Resources.V3.SECRET_TYPE_URL, "", "", "identity_cert:secret:default", "mesh_ca:secret:default");
        DiscoveryResponse first = ads.next(Resources.V3.SECRET_TYPE_URL, 15);
        assertThat(first).isNotNull();
        X509Certificate firstLeaf = leafOf(first);
        ads.request(Resources.V3.SECRET_TYPE_URL, first.getVersionInfo(), first.getNonce(),
            "identity_cert:secret:default", "mesh_ca:secret:default");
        DiscoveryResponse renewed = ads.next(Resources.V3.SECRET_TYPE_URL, 30);
        long receivedAt = System.currentTimeMillis();
        assertThat(renewed).as("renewed secret").isNotNull();
        X509Certificate renewedLeaf = leafOf(renewed);
        assertThat(renewedLeaf.getSerialNumber()).isNotEqualTo(firstLeaf.getSerialNumber());
        long notBefore = firstLeaf.getNotBefore().getTime();
        long notAfter = firstLeaf.getNotAfter().getTime();
        long renewAt = notBefore + (notAfter - notBefore) * 8 / 10;
        // renewed at 80% of the lifetime (second-granular validity dates: allow 1s), before expiry
        assertThat(receivedAt).isBetween(renewAt - 1000, notAfter - 1);
      }
    } finally {
      fake.certLifetime.set(Duration.ofHours(24));
    }
  }

  static final String[] ALL_TYPES = {Resources.V3.CLUSTER_TYPE_URL, Resources.V3.LISTENER_TYPE_URL};

  /** Subscribes to CDS, LDS, EDS(backend), RDS(outbound route) and SDS like Envoy; ACKs the first response of each. */
  static java.util.Map<String, DiscoveryResponse> syncAll(AdsClient ads) throws Exception {
    java.util.Map<String, String[]> names = java.util.Map.of(
        Resources.V3.CLUSTER_TYPE_URL, new String[0],
        Resources.V3.LISTENER_TYPE_URL, new String[0],
        Resources.V3.ENDPOINT_TYPE_URL, new String[] {"backend"},
        Resources.V3.SECRET_TYPE_URL, new String[] {"identity_cert:secret:default", "mesh_ca:secret:default"});
    names.forEach((type, n) -> ads.request(type, "", "", n));
    java.util.Map<String, DiscoveryResponse> first = new java.util.HashMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (first.size() < names.size() && System.nanoTime() < deadline) {
      DiscoveryResponse r = ads.next(1);
      if (r != null && first.putIfAbsent(r.getTypeUrl(), r) == null) {
        ads.request(r.getTypeUrl(), r.getVersionInfo(), r.getNonce(), names.get(r.getTypeUrl()));
      }
    }
    assertThat(first.keySet()).containsExactlyInAnyOrderElementsOf(names.keySet());
    return first;
  }

  static ProxyView restartView(String name, long version, String... outbounds) {
    Views.Builder b = Views.of(Dataplanes.builder().name(name).address("10.0.0.1").inbound(8080, "web").protocol("http").build(),
            Meshes.builder().builtinMtls("ca-1").build())
        .inboundRules(8080, rules("MeshTrafficPermission", conf("{\"action\":\"Allow\"}")))
        .version(version);
    int port = 10001;
    for (String o : outbounds) {
      b.outbound(o, "http", "127.0.0.1", port++, endpoint("10.0.0.2", 8080));
    }
    return b.build();
  }

  @Test
  void restartedDependenciesNeverCauseAnEmptyOrPartialSnapshot() throws Exception {
    fake.push(restartView("restart-1", 1, "backend"));
    try (AdsClient ads = AdsClient.sotw(channel, "default.restart-1", fake.token("default", "restart-1", "t-restart"))) {
      java.util.Map<String, DiscoveryResponse> first = syncAll(ads);
      assertThat(first.get(Resources.V3.CLUSTER_TYPE_URL).getResourcesCount()).isEqualTo(2);
      int signs = fake.signCalls.get();
      // policy-service and ca-service die mid-stream; once back, the restarted policy-service first says
      // the Dataplane is unknown (its store not yet synced), then sends the real view
      fake.firstAfterRestart.set(v -> ProxyView.newBuilder().setMesh(v.getMesh()).setName(v.getName()).setDeleted(true).build());
      try {
        fake.kill();
        Await.untilAsserted(Duration.ofSeconds(15), () ->
            given().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN")));
        assertThat(ads.next(2)).as("nothing is sent while the dependencies are down").isNull();
      } finally {
        fake.restart();
      }
      Await.until(Duration.ofSeconds(20), () -> fake.watchers("default", "restart-1") == 1);
      Await.untilAsserted(Duration.ofSeconds(15), () ->
          given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
      assertThat(ads.next(2)).as("an unchanged view after the restart sends nothing, the deleted marker neither").isNull();
      assertThat(ads.closed).isNotDone();
      assertThat(fake.signCalls.get()).as("the identity is kept, not re-signed").isEqualTo(signs);
      // the next real change is served in full
      fake.push(restartView("restart-1", 2, "backend", "db"));
      DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, 10);
      assertThat(cds).isNotNull();
      assertThat(cds.getResourcesList()).extracting(a -> a.unpack(Cluster.class).getName())
          .containsExactlyInAnyOrder("backend", "db", "localhost:8080");
    } finally {
      fake.firstAfterRestart.set(null);
    }
  }

  @Test
  void slowCaMeansNoConfigYetRatherThanConfigWithoutSecrets() throws Exception {
    fake.push(restartView("slowca-1", 1, "backend"));
    fake.signFailure.set(Status.UNAVAILABLE.withDescription("ca-service restarting"));
    try (AdsClient ads = AdsClient.sotw(channel, "default.slowca-1", fake.token("default", "slowca-1", "t-slowca"))) {
      for (String type : ALL_TYPES) {
        ads.request(type, "", "");
      }
      Await.until(Duration.ofSeconds(10), () -> fake.signCalls.get() > 0);
      assertThat(ads.next(2)).as("no listeners/clusters before the identity exists").isNull();
      fake.signFailure.set(null);
      DiscoveryResponse lds = ads.next(Resources.V3.LISTENER_TYPE_URL, 20);
      assertThat(lds).isNotNull();
      Listener inbound = lds.getResourcesList().stream().map(a -> {
        try {
          return a.unpack(Listener.class);
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }).filter(l -> l.getName().startsWith("inbound:")).findFirst().orElseThrow();
      assertThat(inbound.getFilterChains(0).hasTransportSocket()).as("inbound served with mTLS from the start").isTrue();
    } finally {
      fake.signFailure.set(null);
    }
  }

  static X509Certificate leafOf(DiscoveryResponse sds) throws Exception {
    for (var any : sds.getResourcesList()) {
      Secret s = any.unpack(Secret.class);
      if (s.hasTlsCertificate()) {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
            new ByteArrayInputStream(s.getTlsCertificate().getCertificateChain().getInlineString().getBytes()));
      }
    }
    throw new AssertionError("no identity certificate in " + sds);
  }
}
