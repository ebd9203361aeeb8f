package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an operator sees: the JSON access log line of each request and the Prometheus metrics per listener,
 * route and cluster, scraped from the real admin port.
 */
class ObservabilityIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> accessLog = new CopyOnWriteArrayList<>();
  static final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      accessLog.add(r.getMessage());
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  static EchoServer app;
  static DataPlane dp;
  static AdminServer admin;
  static int port;
  static int adminPort;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Logger.getLogger("io.trellis.gateway.access").addHandler(capture);
    app = new EchoServer("app");
    port = freePort();
    PrometheusMeterRegistry registry = AdminServer.newRegistry();
    dp = new DataPlane(new DataPlane.Options(1, 0, true, null), registry);
    dp.apply(XdsTranslator.translate(new Xds.Set().add(
        httpListener("edge", port, "routes"),
        routes("routes", vhost("all", List.of("*"),
            prefix("/api", "app").setName("api").build(),
            prefix("/gone", "nowhere").setName("gone").build())),
        staticCluster("app", app.address()),
        edsCluster("nowhere")).resources()));
    admin = new AdminServer(registry, dp::ready, () -> dp.config().dump());
    adminPort = admin.start("127.0.0.1", 0).getPort();
  }

  @AfterAll
  static void stop() {
    Logger.getLogger("io.trellis.gateway.access").removeHandler(capture);
    admin.close();
    dp.close();
    app.close();
  }

  static String scrape() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The value of the sample whose name and labels (in Prometheus' sorted order) are given, or -1. */
  static double sample(String metrics, String name, String labels) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  static JsonNode logLine(String requestId) throws Exception {
    for (int i = 0; i < 100; i++) {
      for (String line : accessLog) {
        if (line.contains(requestId)) {
          return JSON.readTree(line);
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no access log line for " + requestId + " in " + accessLog);
  }

  @Test
  void everyRequestGetsOneJsonAccessLogLine() throws Exception {
    HttpResponse<String> ok = Curl.get(port, "shop.example.com", "/api/items?q=1", "user-agent", "t");
    String id = ok.headers().firstValue("x-trellis-request-id").orElseThrow();
    JsonNode line = logLine(id);
    assertThat(line.path("status").asInt()).isEqualTo(200);
    assertThat(line.path("listener").asText()).isEqualTo("edge");
    assertThat(line.path("route").asText()).isEqualTo("api");
    assertThat(line.path("cluster").asText()).isEqualTo("app");
    assertThat(line.path("method").asText()).isEqualTo("GET");
    assertThat(line.path("authority").asText()).isEqualTo("shop.example.com");
    assertThat(line.path("path").asText()).as("no query string in the log").isEqualTo("/api/items");
    assertThat(line.path("upstream").asText()).isEqualTo("127.0.0.1:" + app.address().getPort());
    assertThat(line.path("duration_ms").asLong()).isGreaterThanOrEqualTo(line.path("upstream_ms").asLong());

    HttpResponse<String> none = Curl.get(port, "shop.example.com", "/nothing");
    JsonNode miss = logLine(none.headers().firstValue("x-trellis-request-id").orElseThrow());
    assertThat(miss.path("status").asInt()).isEqualTo(404);
    assertThat(miss.path("route").asText()).isEmpty();
    assertThat(miss.path("upstream").isNull()).isTrue();
  }

  @Test
  void requestsStatusClassesAndLatencyPerListenerRouteAndCluster() throws Exception {
    String before = scrape();
    String okLabels = "cluster=\"app\",listener=\"edge\",route=\"api\",status_class=\"2xx\"";
    String goneLabels = "cluster=\"nowhere\",listener=\"edge\",route=\"gone\",status_class=\"5xx\"";
    double ok0 = Math.max(0, sample(before, "trellis_gateway_requests_total", okLabels));
    double gone0 = Math.max(0, sample(before, "trellis_gateway_requests_total", goneLabels));
    for (int i = 0; i < 3; i++) {
      assertThat(Curl.get(port, "a", "/api/" + i).statusCode()).isEqualTo(200);
    }
    assertThat(Curl.get(port, "a", "/gone").statusCode()).isEqualTo(503);
    String after = scrape();
    assertThat(sample(after, "trellis_gateway_requests_total", okLabels)).isEqualTo(ok0 + 3);
    assertThat(sample(after, "trellis_gateway_requests_total", goneLabels)).isEqualTo(gone0 + 1);
    String route = "cluster=\"app\",listener=\"edge\",route=\"api\"";
    assertThat(sample(after, "trellis_gateway_request_duration_seconds_count", route)).isGreaterThanOrEqualTo(3);
    assertThat(sample(after, "trellis_gateway_request_duration_seconds_bucket", route + ",le=\"+Inf\""))
        .as("a latency histogram, not just a summary").isGreaterThanOrEqualTo(3);
  }

  @Test
  void activeConnectionsPerListener() throws Exception {
    String gauge = "trellis_gateway_active_connections";
    String labels = "listener=\"edge\"";
    awaitSample(gauge, labels, 0);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port));
      awaitSample(gauge, labels, 1);
    }
    awaitSample(gauge, labels, 0);
  }

  static void awaitSample(String name, String labels, double expected) throws Exception {
    double v = Double.NaN;
    for (int i = 0; i < 100; i++) {
      v = sample(scrape(), name, labels);
      if (v == expected) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError(name + "{" + labels + "} = " + v + " (expected: " + expected + ")");
  }
}
