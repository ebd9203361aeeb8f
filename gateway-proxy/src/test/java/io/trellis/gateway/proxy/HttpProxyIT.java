package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.EchoServer;
import io.trellis.gateway.testing.Xds;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 reverse proxy over real sockets: gateway on a free port, JDK HttpServer upstreams. */
class HttpProxyIT {
  static EchoServer a;
  static EchoServer b;
  static DataPlane dp;
  static int port;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    a = new EchoServer("a");
    b = new EchoServer("b");
    port = freePort();
    dp = new DataPlane(new DataPlane.Options(2, 8L * 1024 * 1024, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(config(port).resources()));
  }

  static Xds.Set config(int port) {
    HttpFilter rbacDenyNobody = HttpFilter.newBuilder().setName("envoy.filters.http.rbac").build();
    return new Xds.Set().add(
        httpListener("gw", port, "routes"),
        routes("routes",
            vhost("api", List.of("api.example.com"),
                prefix("/only-post", "ab").setMatch(RouteMatch.newBuilder().setPrefix("/only-post")
                    .addHeaders(HeaderMatcher.newBuilder().setName(":method").setExactMatch("POST"))).build(),
                prefix("/v1/", "ab").setMatch(RouteMatch.newBuilder().setPrefix("/v1/")
                    .addHeaders(HeaderMatcher.newBuilder().setName("x-version").setExactMatch("2"))).build(),
                prefix("/", "a").build()),
            vhost("wild", List.of("*.wild.test"), prefix("/", "b").build()),
            vhost("local", List.of("127.0.0.1:*"), prefix("/", "a").build()),
            vhost("fallback", List.of("*"),
                weighted("/split", Map.of("a", 1, "b", 1)),
                prefix("/rr", "ab").build(),
                prefix("/down", "down").build(),
                prefix("/empty", "empty").build(),
                prefix("/slow", "a").setRoute(io.envoyproxy.envoy.config.route.v3.RouteAction.newBuilder().setCluster("a")
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setNanos(300_000_000))).build(),
                Xds.prefix("/regex", "a").setMatch(RouteMatch.newBuilder().setSafeRegex(
                    io.envoyproxy.envoy.type.matcher.v3.RegexMatcher.newBuilder().setRegex("/regex/[0-9]+"))).build(),
                prefix("/", "a").setMatch(RouteMatch.newBuilder().setPath("/exact")).build())),
        staticCluster("a", a.address()),
        staticCluster("b", b.address()),
        edsCluster("ab"), cla("ab", a.address(), b.address()),
        staticCluster("down", new java.net.InetSocketAddress("127.0.0.1", freePort())),
        edsCluster("empty"));
  }

  @AfterAll
  static void stop() {
    dp.close();
    a.close();
    b.close();
  }

  static HttpResponse<String> get(String host, String path, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
    // HttpClient does not let us set Host; route by authority through a header the JDK allows.
    if (host != null) {
      r.header("x-host-unused", host);
    }
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void proxiesAndAddsTheReferenceHeaders() throws Exception {
    HttpResponse<String> r = Curl.get(port, "api.example.com", "/hello?x=1");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("server=a", "request=GET /hello?x=1", "h:via=1.1 trellis", "h:x-forwarded-for=127.0.0.1");
    assertThat(r.headers().firstValue("via")).hasValue("1.1 trellis");
    assertThat(r.headers().firstValue("x-trellis-request-id")).hasValueSatisfying(id -> assertThat(id).hasSize(36));
    assertThat(r.body()).contains("h:x-trellis-request-id=" + r.headers().firstValue("x-trellis-request-id").get());
    assertThat(r.headers().firstValue("x-trellis-upstream-latency")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isGreaterThanOrEqualTo(0));
    assertThat(r.headers().firstValue("x-trellis-proxy-latency")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isGreaterThanOrEqualTo(0));
  }

  @Test
  void noRouteIs404JsonWithTheRequestId() throws Exception {
    HttpResponse<String> r = Curl.get(port, "api.example.com", "/only-post");
    assertThat(r.statusCode()).isEqualTo(200); // falls through to "/" of the api vhost
    HttpResponse<String> none = Curl.get(port, "unknown.host", "/nothing");
    assertThat(none.statusCode()).isEqualTo(404);
    String id = none.headers().firstValue("x-trellis-request-id").orElseThrow();
    assertThat(none.body()).isEqualTo("{\"message\":\"no Route matched with those values\",\"request_id\":\"" + id + "\"}");
    assertThat(none.headers().firstValue("content-type")).hasValue("application/json");
  }

  @Test
  void virtualHostsByHostIncludingWildcardsAndPort() throws Exception {
    assertThat(Curl.get(port, "x.wild.test", "/").body()).contains("server=b");
    assertThat(Curl.get(port, "deep.x.wild.test:" + port, "/").body()).contains("server=b");
    assertThat(Curl.get(port, "wild.test", "/exact").body()).contains("server=a");
    assertThat(Curl.get(port, "API.example.com", "/").body()).contains("server=a");
  }

  @Test
  void routesByExactRegexHeaderAndMethod() throws Exception {
    assertThat(Curl.get(port, "other", "/exact").statusCode()).isEqualTo(200);
    assertThat(Curl.get(port, "other", "/exact/more").statusCode()).isEqualTo(404);
    assertThat(Curl.get(port, "other", "/regex/42").statusCode()).isEqualTo(200);
    assertThat(Curl.get(port, "other", "/regex/4x").statusCode()).isEqualTo(404);
    HttpResponse<String> post = Curl.run(port, "-X", "POST", "-H", "Host: api.example.com", "--data", "hi",
        "http://127.0.0.1:" + port + "/only-post");
    assertThat(post.body()).contains("request=POST /only-post", "body-bytes=2");
    // /v1/ needs x-version: 2, else it falls through to "/" -> a
    int bSeen = 0;
    for (int i = 0; i < 6; i++) {
      if (Curl.get(port, "api.example.com", "/v1/x", "x-version", "2").body().contains("server=b")) {
        bSeen++;
      }
    }
    assertThat(bSeen).isBetween(1, 5);
  }

  @Test
  void roundRobinAndWeightedClusters() throws Exception {
    int aCount = 0;
    for (int i = 0; i < 10; i++) {
      if (Curl.get(port, "rr.test", "/rr").body().contains("server=a")) {
        aCount++;
      }
    }
    assertThat(aCount).isEqualTo(5);
    int split = 0;
    for (int i = 0; i < 40; i++) {
      if (Curl.get(port, "rr.test", "/split").body().contains("server=a")) {
        split++;
      }
    }
    assertThat(split).isBetween(8, 32);
  }

  @Test
  void noHealthyEndpointIs503AndTimeoutIs504() throws Exception {
    HttpResponse<String> empty = Curl.get(port, "x", "/empty");
    assertThat(empty.statusCode()).isEqualTo(503);
    assertThat(empty.headers().firstValue("x-trellis-request-id")).isPresent();
    assertThat(Curl.get(port, "x", "/down").statusCode()).isEqualTo(503);
    HttpResponse<String> slow = Curl.get(port, "x", "/slow/sleep/2000");
    assertThat(slow.statusCode()).isEqualTo(504);
    assertThat(slow.body()).isEqualTo("upstream request timeout");
    // The route timer is per connection and re-armed lazily: later requests on a kept-alive connection,
    // after one that finished in time, still time out.
    for (int i = 0; i < 2; i++) {
      assertThat(Curl.get(port, "x", "/slow/sleep/1").statusCode()).isEqualTo(200);
      assertThat(Curl.get(port, "x", "/slow/sleep/2000").statusCode()).isEqualTo(504);
    }
  }

  @Test
  void streamsLargeBodiesBothWaysAndReusesUpstreamConnections() throws Exception {
    byte[] body = new byte[5 * 1024 * 1024 + 17];
    new Random(1).nextBytes(body);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/upload"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.body()).contains("body-bytes=" + body.length, "body-sha256=" + sha);
    // chunked request body (unknown length)
    HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/upload"))
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(chunked.body()).contains("body-bytes=" + body.length, "body-sha256=" + sha);
    HttpResponse<byte[]> big = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/big/20000000")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(big.body()).hasSize(20_000_000);
    // over the limit (8 MiB here)
    HttpResponse<String> tooBig = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/upload"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[9 * 1024 * 1024])).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(tooBig.statusCode()).isEqualTo(413);

    int before = a.connections.size();
    for (int i = 0; i < 20; i++) {
      assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ka")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
    assertThat(a.connections.size() - before).isLessThanOrEqualTo(2);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.getOutputStream().write(("GET /first HTTP/1.1\r\nHost: api.example.com\r\n\r\nGET /sleep/0 HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
          + "GET /third HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n").getBytes());
      String all = new String(s.getInputStream().readAllBytes());
      assertThat(all.split("HTTP/1.1 200 OK", -1)).hasSize(4);
      assertThat(all.indexOf("GET /first")).isLessThan(all.indexOf("GET /sleep/0"));
      assertThat(all.indexOf("GET /sleep/0")).isLessThan(all.indexOf("GET /third"));
    }
  }
}
