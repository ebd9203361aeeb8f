package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MeshCircuitBreaker's outlier detectors as xds-service writes them (Envoy outlier_detection), enforced by
 * gateway-proxy against real servers: failure-percentage detection on the interval sweep, and consecutive gateway
 * failures from a port nobody listens on.
 */
class OutlierDetectionIT {
  static final List<HttpServer> servers = new ArrayList<>();
  static final List<AtomicInteger> traffic = new ArrayList<>();
  static DataPlane dp;
  static int port;
  static InetSocketAddress closed;

  /** Servers answering every request with {@code status}; counts what reached each. */
  static InetSocketAddress server(int status) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    AtomicInteger count = new AtomicInteger();
    s.createContext("/", ex -> {
      count.incrementAndGet();
      byte[] body = ("status=" + status).getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    s.start();
    servers.add(s);
    traffic.add(count);
    return s.getAddress();
  }

  @BeforeAll
  static void start() throws Exception {
    InetSocketAddress ok1 = server(200);
    InetSocketAddress ok2 = server(200);
    InetSocketAddress failing = server(500);
    InetSocketAddress ok3 = server(200);
    closed = new InetSocketAddress("127.0.0.1", freePort());
    port = freePort();
    dp = new DataPlane(new DataPlane.Options(2, 8L * 1024 * 1024, false, null), AdminServer.newRegistry());
    OutlierDetection.Builder allOff = OutlierDetection.newBuilder()
        .setEnforcingConsecutive5Xx(UInt32Value.of(0)).setEnforcingConsecutiveGatewayFailure(UInt32Value.of(0))
        .setEnforcingConsecutiveLocalOriginFailure(UInt32Value.of(0)).setEnforcingSuccessRate(UInt32Value.of(0))
        .setEnforcingFailurePercentage(UInt32Value.of(0))
        .setMaxEjectionPercent(UInt32Value.of(50))
        .setBaseEjectionTime(com.google.protobuf.Duration.newBuilder().setSeconds(30));
    dp.apply(XdsTranslator.translate(new Xds.Set().add(
        httpListener("gw", port, "routes"),
        routes("routes", vhost("pct", List.of("pct"), prefix("/", "pct").build()),
            vhost("gwf", List.of("gwf"), prefix("/", "gwf").build())),
        edsCluster("pct").toBuilder().setOutlierDetection(allOff.clone()
            .setInterval(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000))
            .setEnforcingFailurePercentage(UInt32Value.of(100))
            .setFailurePercentageThreshold(UInt32Value.of(60))
            .setFailurePercentageMinimumHosts(UInt32Value.of(3))
            .setFailurePercentageRequestVolume(UInt32Value.of(3))).build(),
        cla("pct", ok1, ok2, failing),
        edsCluster("gwf").toBuilder().setOutlierDetection(allOff.clone()
            .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(100))
            .setConsecutiveGatewayFailure(UInt32Value.of(2))).build(),
        cla("gwf", closed, ok3)).resources()));
  }

  @AfterAll
  static void stop() {
    dp.close();
    servers.forEach(s -> s.stop(0));
  }

  @Test
  void anEndpointFailingMostRequestsIsEjectedAtTheNextSweep() throws Exception {
    // the sweep may run in the middle of the first round: send until an interval saw >= 3 requests per endpoint
    long until = System.nanoTime() + 10_000_000_000L;
    while (!dp.health().ejected(servers.get(2).getAddress())) {
      Curl.get(port, "pct", "/");
      assertThat(System.nanoTime()).as("the failing endpoint was never ejected").isLessThan(until);
    }
    int failingBefore = traffic.get(2).get();
    for (int i = 0; i < 12; i++) {
      assertThat(Curl.get(port, "pct", "/r" + i).statusCode()).isEqualTo(200);
    }
    assertThat(traffic.get(2).get()).as("no request reached the ejected endpoint").isEqualTo(failingBefore);
    assertThat(dp.health().ejected(servers.get(0).getAddress())).isFalse();
    assertThat(dp.health().ejected(servers.get(1).getAddress())).isFalse();
  }

  @Test
  void connectionsRefusedTwiceInARowAreGatewayFailuresThatEject() throws Exception {
    int ok = 0;
    for (int i = 0; i < 8 && !dp.health().ejected(closed); i++) {
      Curl.get(port, "gwf", "/g" + i);
    }
    assertThat(dp.health().ejected(closed)).as("the endpoint nobody listens on").isTrue();
    for (int i = 0; i < 6; i++) {
      if (Curl.get(port, "gwf", "/after" + i).statusCode() == 200) {
        ok++;
      }
    }
    assertThat(ok).as("every request goes to the endpoint left").isEqualTo(6);
  }
}
