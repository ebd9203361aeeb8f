package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.type.v3.Int64Range;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MeshHealthCheck's HTTP check (Envoy health_checks) run by gateway-proxy against real servers: an endpoint whose
 * /health answers 503 gets no traffic once it failed twice, and gets traffic again after it passes.
 */
class ActiveHealthCheckIT {
  static EchoServer good;
  static HttpServer flaky;
  static final AtomicInteger flakyTraffic = new AtomicInteger();
  static final AtomicInteger flakyChecks = new AtomicInteger();
  static final AtomicReference<Integer> flakyHealth = new AtomicReference<>(503);
  static DataPlane dp;
  static int port;
  static int tcpPort;
  static java.net.ServerSocket goodTcp;
  static java.net.ServerSocket badTcp;

  @BeforeAll
  static void start() throws Exception {
    good = new EchoServer("good");
    flaky = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    flaky.createContext("/", ex -> {
      boolean check = ex.getRequestURI().getPath().equals("/health");
      (check ? flakyChecks : flakyTraffic).incrementAndGet();
      byte[] body = ("server=flaky").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(check ? flakyHealth.get() : 200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    flaky.start();
    port = freePort();
    tcpPort = freePort();
    goodTcp = tcpServer("good", "pong");
    badTcp = tcpServer("bad", "nope");
    dp = new DataPlane(new DataPlane.Options(2, 8L * 1024 * 1024, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(new Xds.Set().add(
        httpListener("gw", port, "routes"),
        routes("routes", vhost("all", List.of("*"), prefix("/", "svc").build())),
        edsCluster("svc").toBuilder().addHealthChecks(HealthCheck.newBuilder()
            .setInterval(com.google.protobuf.Duration.newBuilder().setNanos(100_000_000))
            .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
            .setUnhealthyThreshold(UInt32Value.of(2)).setHealthyThreshold(UInt32Value.of(2))
            .setHttpHealthCheck(HealthCheck.HttpHealthCheck.newBuilder().setPath("/health")
                .addExpectedStatuses(Int64Range.newBuilder().setStart(200).setEnd(300)))).build(),
        cla("svc", good.address(), flaky.getAddress()),
        io.envoyproxy.envoy.config.listener.v3.Listener.newBuilder().setName("tcp").setAddress(address("127.0.0.1", tcpPort))
            .addFilterChains(io.envoyproxy.envoy.config.listener.v3.FilterChain.newBuilder()
                .addFilters(io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
                    .setName("envoy.filters.network.tcp_proxy").setTypedConfig(com.google.protobuf.Any.pack(
                        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.newBuilder()
                            .setStatPrefix("tcp").setCluster("db").build())))).build(),
        edsCluster("db").toBuilder().addHealthChecks(HealthCheck.newBuilder()
            .setInterval(com.google.protobuf.Duration.newBuilder().setNanos(100_000_000))
            .setTimeout(com.google.protobuf.Duration.newBuilder().setNanos(300_000_000))
            .setUnhealthyThreshold(UInt32Value.of(1)).setHealthyThreshold(UInt32Value.of(1))
            .setTcpHealthCheck(HealthCheck.TcpHealthCheck.newBuilder()
                .setSend(HealthCheck.Payload.newBuilder().setText("70696e67"))
                .addReceive(HealthCheck.Payload.newBuilder().setText("706f6e67")))).build(),
        cla("db", new InetSocketAddress("127.0.0.1", goodTcp.getLocalPort()),
            new InetSocketAddress("127.0.0.1", badTcp.getLocalPort()))).resources()));
  }

  @AfterAll
  static void stop() {
    dp.close();
    good.close();
    flaky.stop(0);
    try {
      goodTcp.close();
      badTcp.close();
    } catch (java.io.IOException ignored) {
      // closing anyway
    }
  }

  /** Answers "ping" with {@code pong}; anything else with its name and what it read. */
  static java.net.ServerSocket tcpServer(String name, String pong) throws Exception {
    java.net.ServerSocket ss = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try {
          java.net.Socket s = ss.accept();
          Thread c = new Thread(() -> {
            try (s) {
              byte[] buf = new byte[64];
              int n = s.getInputStream().read(buf);
              String got = n < 0 ? "" : new String(buf, 0, n, StandardCharsets.US_ASCII);
              s.getOutputStream().write((got.equals("ping") ? pong : name + ":" + got).getBytes(StandardCharsets.US_ASCII));
              s.getOutputStream().flush();
              s.getInputStream().read(buf); // until the peer closes
            } catch (java.io.IOException ignored) {
              // peer went away
            }
          });
          c.setDaemon(true);
          c.start();
        } catch (java.io.IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return ss;
  }

  @Test
  void aTcpCheckSendsItsPayloadAndExpectsTheAnswerSoOnlyTheAnsweringEndpointGetsConnections() throws Exception {
    // the bad endpoint answers something else: its check fails when the 300 ms timeout ends
    await(() -> dp.health().ejected(new InetSocketAddress("127.0.0.1", badTcp.getLocalPort())), "the failed TCP check");
    for (int i = 0; i < 6; i++) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", tcpPort)) {
        s.setSoTimeout(5000);
        s.getOutputStream().write(("hello" + i).getBytes(StandardCharsets.US_ASCII));
        byte[] buf = new byte[64];
        int n = s.getInputStream().read(buf);
        assertThat(new String(buf, 0, n, StandardCharsets.US_ASCII)).isEqualTo("good:hello" + i);
      }
    }
  }

  @Test
  void anEndpointFailingItsCheckGetsNoTrafficUntilItPassesAgain() throws Exception {
    await(() -> flakyChecks.get() >= 3, "three checks of the flaky endpoint");
    int before = flakyTraffic.get();
    for (int i = 0; i < 10; i++) {
      assertThat(Curl.get(port, "svc", "/r" + i).body()).contains("server=good");
    }
    assertThat(flakyTraffic.get()).as("no request reached the endpoint failing its check").isEqualTo(before);

    flakyHealth.set(200);
    int checks = flakyChecks.get();
    await(() -> flakyChecks.get() >= checks + 3, "checks after the endpoint recovered");
    for (int i = 0; i < 10; i++) {
      Curl.get(port, "svc", "/again" + i);
    }
    assertThat(flakyTraffic.get()).as("round robin includes it again").isGreaterThanOrEqualTo(before + 4);
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }
}
