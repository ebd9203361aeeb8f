package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.envoyproxy.envoy.type.v3.TokenBucket;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Xds;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MeshRateLimit, MeshFaultInjection and MeshCircuitBreaker as xds-service sends them (Envoy's local_ratelimit and
 * fault filters, cluster circuit_breakers) enforced by gateway-proxy over real sockets: one listener per
 * behaviour, each with its own bucket or cluster.
 */
class TrafficPoliciesIT {
  static EchoServer limitedApp;
  static EchoServer abortedApp;
  static EchoServer delayedApp;
  static final io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry = AdminServer.newRegistry();
  static ServerSocket tcpApp;
  static DataPlane dp;
  static int limited;
  static int aborted;
  static int delayed;
  static int tcpLimited;
  static int breaker;
  static EchoServer slowApp;

  @BeforeAll
  static void start() throws Exception {
    limitedApp = new EchoServer("limited");
    abortedApp = new EchoServer("aborted");
    delayedApp = new EchoServer("delayed");
    slowApp = new EchoServer("slow");
    breaker = freePort();
    tcpApp = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(TrafficPoliciesIT::serveTcp, "tcp-app");
    acceptor.setDaemon(true);
    acceptor.start();
    limited = freePort();
    aborted = freePort();
    delayed = freePort();
    tcpLimited = freePort();
    dp = new DataPlane(new DataPlane.Options(2, 8L * 1024 * 1024, false, null), registry);
    dp.apply(XdsTranslator.translate(new Xds.Set().add(
        httpListener("limited", limited, "limited", rateLimit(3, 3600)),
        httpListener("aborted", aborted, "aborted", fault(HTTPFault.newBuilder().setAbort(FaultAbort.newBuilder()
            .setHttpStatus(503).setPercentage(percent(100))).build())),
        httpListener("delayed", delayed, "delayed", fault(HTTPFault.newBuilder().setDelay(FaultDelay.newBuilder()
            .setFixedDelay(com.google.protobuf.Duration.newBuilder().setNanos(400_000_000))
            .setPercentage(percent(100))).build())),
        Listener.newBuilder().setName("tcp-limited").setAddress(address("127.0.0.1", tcpLimited))
            .addFilterChains(FilterChain.newBuilder()
                .addFilters(Filter.newBuilder().setName("envoy.filters.network.local_ratelimit").setTypedConfig(Any.pack(
                    io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.newBuilder()
                        .setStatPrefix("tcp").setTokenBucket(bucket(2, 3600)).build())))
                .addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy").setTypedConfig(Any.pack(
                    TcpProxy.newBuilder().setStatPrefix("tcp").setCluster("tcp-app").build()))))
            .build(),
        httpListener("breaker", breaker, "breaker"),
        routes("breaker", vhost("all", List.of("*"), prefix("/", "slow").build())),
        staticCluster("slow", slowApp.address()).toBuilder().setCircuitBreakers(
            io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.newBuilder().addThresholds(
                io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.Thresholds.newBuilder()
                    .setMaxConnections(UInt32Value.of(1)).setMaxPendingRequests(UInt32Value.of(0))
                    .setMaxRequests(UInt32Value.of(16)))).build(),
        routes("limited", vhost("all", List.of("*"), prefix("/", "limited").build())),
        routes("aborted", vhost("all", List.of("*"), prefix("/", "aborted").build())),
        routes("delayed", vhost("all", List.of("*"), prefix("/", "delayed").build())),
        staticCluster("limited", limitedApp.address()),
        staticCluster("aborted", abortedApp.address()),
        staticCluster("delayed", delayedApp.address()),
        staticCluster("tcp-app", new InetSocketAddress("127.0.0.1", tcpApp.getLocalPort()))).resources()));
  }

  @AfterAll
  static void stop() throws Exception {
    dp.close();
    limitedApp.close();
    abortedApp.close();
    delayedApp.close();
    slowApp.close();
    tcpApp.close();
  }

  static TokenBucket bucket(int tokens, int seconds) {
    return TokenBucket.newBuilder().setMaxTokens(tokens).setTokensPerFill(UInt32Value.of(tokens))
        .setFillInterval(com.google.protobuf.Duration.newBuilder().setSeconds(seconds)).build();
  }

  static FractionalPercent percent(int p) {
    return FractionalPercent.newBuilder().setNumerator(p).setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
  }

  /** As xds-service writes MeshRateLimit's local.http: enabled and enforced for all, 429, one added header. */
  static HttpFilter rateLimit(int tokens, int seconds) {
    RuntimeFractionalPercent all = RuntimeFractionalPercent.newBuilder().setDefaultValue(percent(100))
        .setRuntimeKey("local_rate_limit_enabled").build();
    return HttpFilter.newBuilder().setName("envoy.filters.http.local_ratelimit").setTypedConfig(Any.pack(
        LocalRateLimit.newBuilder().setStatPrefix("limited").setTokenBucket(bucket(tokens, seconds))
            .setFilterEnabled(all).setFilterEnforced(all)
            .setStatus(HttpStatus.newBuilder().setCode(StatusCode.TooManyRequests))
            .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey("x-limited").setValue("true"))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD))
            .build())).build();
  }

  static HttpFilter fault(HTTPFault f) {
    return HttpFilter.newBuilder().setName("envoy.filters.http.fault").setTypedConfig(Any.pack(f)).build();
  }

  @Test
  void requestsBeyondTheBucketGet429WithTheConfiguredHeaderAndAreCounted() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(Curl.get(limited, "svc", "/ok-" + i).statusCode()).as("request %d within the bucket", i).isEqualTo(200);
    }
    HttpResponse<String> r = Curl.get(limited, "svc", "/too-many");
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.body()).isEqualTo("local_rate_limited");
    assertThat(r.headers().firstValue("x-limited")).hasValue("true");
    assertThat(r.headers().firstValue("x-trellis-request-id")).isPresent();
    assertThat(limitedApp.requests.get()).as("the refused request never reached the app").isEqualTo(3);
    assertThat(registry.scrape()).contains("trellis_gateway_rate_limited_total{kind=\"request\",listener=\"limited\"} 1.0");
  }

  @Test
  void anAbortFaultAnswersWithItsStatusWithoutReachingTheApp() throws Exception {
    HttpResponse<String> r = Curl.get(aborted, "svc", "/aborted");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("fault filter abort");
    assertThat(abortedApp.requests.get()).isZero();
  }

  @Test
  void aDelayFaultHoldsTheRequestThenForwardsIt() throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = Curl.get(delayed, "svc", "/delayed");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("request=GET /delayed");
    assertThat(ms).as("held for the fixed delay").isGreaterThanOrEqualTo(400);
  }

  @Test
  void connectionsBeyondTheTcpBucketAreClosedAtOnce() throws Exception {
    assertThat(echo(tcpLimited, "one")).isEqualTo("one");
    assertThat(echo(tcpLimited, "two")).isEqualTo("two");
    assertThat(echo(tcpLimited, "three")).as("third connection closed by the rate limit").isNull();
    assertThat(registry.scrape()).contains("trellis_gateway_rate_limited_total{kind=\"connection\",listener=\"tcp-limited\"} 1.0");
  }

  @Test
  void aRequestBeyondTheCircuitBreakerIs503OverflowAndTheNextOnePassesOnceASlotIsFree() throws Exception {
    var slow = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return Curl.get(breaker, "svc", "/sleep/1500").statusCode();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long until = System.nanoTime() + 5_000_000_000L;
    while (slowApp.requests.get() == 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    HttpResponse<String> over = Curl.get(breaker, "svc", "/second");
    assertThat(over.statusCode()).isEqualTo(503);
    assertThat(over.headers().firstValue("x-envoy-overloaded")).hasValue("true");
    assertThat(over.body()).isEqualTo("upstream connect error or disconnect/reset before headers. reset reason: overflow");
    assertThat(slow.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(200);
    assertThat(Curl.get(breaker, "svc", "/third").statusCode()).as("the slot was given back").isEqualTo(200);
    assertThat(slowApp.requests.get()).isEqualTo(2);
    assertThat(registry.scrape()).contains("trellis_gateway_upstream_overflow_total{cluster=\"slow\"} 1.0");
  }

  /** Sends a line over a new connection and reads it back; null when the connection is closed without an answer. */
  static String echo(int port, String line) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      byte[] buf = new byte[64];
      int n = s.getInputStream().read(buf);
      return n < 0 ? null : new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    } catch (java.net.SocketException e) {
      return null; // reset: refused the same way
    }
  }

  static void serveTcp() {
    while (!tcpApp.isClosed()) {
      try {
        Socket s = tcpApp.accept();
        Thread t = new Thread(() -> {
          try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            in.transferTo(out);
          } catch (Exception ignored) {
            // the client went away
          }
        });
        t.setDaemon(true);
        t.start();
      } catch (Exception e) {
        return;
      }
    }
  }
}
