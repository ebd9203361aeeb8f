package io.trellis.gateway.xds;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.proxy.DataPlane;
import io.trellis.gateway.testing.EchoServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ADS client against java-control-plane's real ADS server: ACK, NACK with a reason while keeping the
 * last good config, atomic swaps that do not drop a keep-alive connection, and surviving the control
 * plane going away.
 */
class AdsClientIT {
  EchoServer a;
  EchoServer b;
  SimpleCache<String> cache;
  Server server;
  ManagedChannel channel;
  DataPlane dp;
  AdsClient client;
  int port;
  final List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
  final List<String> authHeaders = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    a = new EchoServer("a");
    b = new EchoServer("b");
    cache = new SimpleCache<>(node -> node.getId());
    V3DiscoveryServer ads = new V3DiscoveryServer(new DiscoveryServerCallbacks() {
      @Override
      public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
        requests.add(request);
      }

      @Override
      public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {}
    }, cache);
    ServerInterceptor auth = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        authHeaders.add(headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)));
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(ads.getAggregatedDiscoveryServiceImpl(), auth)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    port = freePort();
    dp = new DataPlane(new DataPlane.Options(1, 0, false, null), AdminServer.newRegistry());
    client = new AdsClient(channel, "default.edge-gateway", "dp-token-123", dp, null);
  }

  @AfterEach
  void stop() {
    client.close();
    channel.shutdownNow();
    server.shutdownNow();
    dp.close();
    a.close();
    b.close();
  }

  Snapshot snapshot(String version, String cluster, RouteMatch match) {
    Listener l = httpListener("edge", port, "edge-routes");
    RouteConfiguration rc = routes("edge-routes", vhost("all", List.of("*"),
        prefix("/", cluster).setMatch(match).build()));
    Cluster ca = edsCluster("a");
    Cluster cb = edsCluster("b");
    ClusterLoadAssignment ea = cla("a", a.address());
    ClusterLoadAssignment eb = cla("b", b.address());
    return Snapshot.create(List.of(ca, cb), List.of(ea, eb), List.of(l), List.of(rc), List.of(), version);
  }

  static void await(BooleanSupplier c, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 10_000;
    while (!c.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  boolean acked(String type, String version) {
    return requests.stream().anyMatch(r -> r.getTypeUrl().endsWith(type) && r.getVersionInfo().equals(version)
        && !r.getResponseNonce().isEmpty() && !r.hasErrorDetail());
  }

  static String exchange(Socket s, String path) throws Exception {
    OutputStream out = s.getOutputStream();
    out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    StringBuilder head = new StringBuilder();
    int length = 0;
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      head.append(line).append('\n');
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    char[] body = new char[length];
    int n = 0;
    while (n < length) {
      n += in.read(body, n, length - n);
    }
    return head + new String(body);
  }

  @Test
  void appliesAcksNacksAndKeepsServing() throws Exception {
    assertThat(dp.ready()).isFalse();
    client.start();
    cache.setSnapshot("default.edge-gateway", snapshot("1", "a", RouteMatch.newBuilder().setPrefix("/").build()));
    await(() -> dp.ready() && acked("Listener", "1") && acked("RouteConfiguration", "1")
        && acked("ClusterLoadAssignment", "1"), "config v1 applied and ACKed");
    assertThat(authHeaders).contains("Bearer dp-token-123");
    assertThat(requests.get(0).getNode().getId()).isEqualTo("default.edge-gateway");
    assertThat(dp.config().dump()).contains("edge-routes", "\"name\" : \"a\"");

    try (Socket keepAlive = new Socket("127.0.0.1", port)) {
      assertThat(exchange(keepAlive, "/one")).contains("200 OK", "server=a");

      // v2 has a route the gateway cannot honour: NACK naming the field, v1 stays in effect.
      cache.setSnapshot("default.edge-gateway", snapshot("2", "b", RouteMatch.newBuilder().setPrefix("/")
          .addQueryParameters(QueryParameterMatcher.newBuilder().setName("q")).build()));
      await(() -> requests.stream().anyMatch(r -> r.hasErrorDetail()
          && r.getErrorDetail().getMessage().contains("query_parameters")), "NACK for v2");
      DiscoveryRequest nack = requests.stream().filter(DiscoveryRequest::hasErrorDetail).findFirst().orElseThrow();
      assertThat(nack.getVersionInfo()).isEqualTo("1");
      assertThat(nack.getErrorDetail().getMessage()).contains("RouteConfiguration edge-routes.virtual_hosts[0].routes[0].match.query_parameters");
      assertThat(exchange(keepAlive, "/two")).contains("server=a");

      // v3 is good: swapped atomically, the same keep-alive connection now reaches b.
      cache.setSnapshot("default.edge-gateway", snapshot("3", "b", RouteMatch.newBuilder().setPrefix("/").build()));
      await(() -> acked("RouteConfiguration", "3"), "v3 ACKed");
      assertThat(exchange(keepAlive, "/three")).contains("200 OK", "server=b");
    }

    // The control plane goes away: the proxy keeps its last good configuration.
    server.shutdownNow().awaitTermination();
    Thread.sleep(300);
    try (Socket s = new Socket("127.0.0.1", port)) {
      assertThat(exchange(s, "/four")).contains("server=b");
    }
    assertThat(dp.ready()).isTrue();
  }
}
