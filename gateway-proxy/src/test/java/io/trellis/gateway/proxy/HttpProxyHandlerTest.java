package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.RbacSpec;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.Xds;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Local replies of the proxy handler, driven through an EmbeddedChannel (no sockets). */
class HttpProxyHandlerTest {
  static DataPlane dp;

  @BeforeAll
  static void setUp() {
    dp = new DataPlane(new DataPlane.Options(1, 1024, false, null), AdminServer.newRegistry());
    Xds.Set set = new Xds.Set().add(
        httpListener("plain", 1, "routes"),
        httpListener("keyed", 2, "routes", keyAuth(false, Map.of("alice", "s3cret"))),
        httpListener("rbac", 3, "routes", AuthIT.rbacAllow("spiffe://default/gateway")),
        routes("routes", vhost("api", List.of("api.test"),
            prefix("/empty", "empty").build(),
            prefix("/direct", "x").setDirectResponse(io.envoyproxy.envoy.config.route.v3.DirectResponseAction.newBuilder()
                .setStatus(418).setBody(io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder().setInlineString("teapot"))).build())),
        edsCluster("empty"));
    dp.swapUnbound(XdsTranslator.translate(set.resources()));
  }

  @AfterAll
  static void tearDown() {
    dp.close();
  }

  static EmbeddedChannel channel(String listener, RbacSpec.Peer peer) {
    return new EmbeddedChannel(new HttpProxyHandler(dp, listener, null, false, peer, false));
  }

  static HttpRequest get(String host, String uri) {
    HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
    r.headers().set("host", host);
    return r;
  }

  static FullHttpResponse exchange(EmbeddedChannel ch, HttpRequest req) {
    ch.writeInbound(req, new DefaultLastHttpContent());
    FullHttpResponse res = ch.readOutbound();
    assertThat(res).isNotNull();
    return res;
  }

  static String body(FullHttpResponse r) {
    try {
      return r.content().toString(StandardCharsets.UTF_8);
    } finally {
      r.release();
    }
  }

  @Test
  void noRouteGives404JsonCarryingTheSameRequestIdAsTheHeader() {
    EmbeddedChannel ch = channel("plain", RbacSpec.Peer.ANONYMOUS);
    FullHttpResponse r = exchange(ch, get("other.test", "/"));
    String id = r.headers().get("x-trellis-request-id");
    assertThat(r.status().code()).isEqualTo(404);
    assertThat(body(r)).isEqualTo("{\"message\":\"no Route matched with those values\",\"request_id\":\"" + id + "\"}");
    assertThat(ch.isOpen()).as("keep-alive after a local reply").isTrue();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void keyAuthMissingAndWrongKeys() {
    EmbeddedChannel ch = channel("keyed", RbacSpec.Peer.ANONYMOUS);
    FullHttpResponse none = exchange(ch, get("api.test", "/direct"));
    assertThat(none.status().code()).isEqualTo(401);
    assertThat(none.headers().get("www-authenticate")).isEqualTo("Key realm=\"trellis\"");
    assertThat(body(none)).isEqualTo("{\"message\":\"No API key found in request\"}");
    HttpRequest wrong = get("api.test", "/direct");
    wrong.headers().set("apikey", "s3cret!");
    FullHttpResponse w = exchange(ch, wrong);
    assertThat(w.status().code()).isEqualTo(401);
    assertThat(body(w)).isEqualTo("{\"message\":\"Invalid authentication credentials\"}");
    FullHttpResponse ok = exchange(ch, get("api.test", "/direct?apikey=s3cret"));
    assertThat(ok.status().code()).isEqualTo(418);
    assertThat(body(ok)).isEqualTo("teapot");
    ch.finishAndReleaseAll();
  }

  /** The per-connection memo of the last key must not outlive a different key or a new configuration. */
  @Test
  void keyAuthOnOneConnectionJudgesEachKeyAndFollowsConfigSwaps() {
    EmbeddedChannel ch = channel("keyed", RbacSpec.Peer.ANONYMOUS);
    HttpRequest good = get("api.test", "/direct");
    good.headers().set("apikey", "s3cret");
    assertThat(body(exchange(ch, good))).isEqualTo("teapot");
    HttpRequest wrong = get("api.test", "/direct");
    wrong.headers().set("apikey", "s3cret?");
    assertThat(exchange(ch, wrong).status().code()).isEqualTo(401);
    HttpRequest again = get("api.test", "/direct");
    again.headers().set("apikey", "s3cret");
    assertThat(body(exchange(ch, again))).isEqualTo("teapot");
    var before = dp.config();
    try {
      // alice's key revoked: the same key on the same connection is now refused.
      dp.swapUnbound(XdsTranslator.translate(new Xds.Set().add(
          httpListener("keyed", 2, "routes", keyAuth(false, Map.of("bob", "other"))),
          routes("routes", vhost("api", List.of("api.test"),
              prefix("/direct", "x").setDirectResponse(io.envoyproxy.envoy.config.route.v3.DirectResponseAction.newBuilder()
                  .setStatus(418)).build()))).resources()));
      HttpRequest revoked = get("api.test", "/direct");
      revoked.headers().set("apikey", "s3cret");
      FullHttpResponse r = exchange(ch, revoked);
      assertThat(r.status().code()).isEqualTo(401);
      assertThat(body(r)).isEqualTo("{\"message\":\"Invalid authentication credentials\"}");
    } finally {
      dp.swapUnbound(before);
    }
    ch.finishAndReleaseAll();
  }

  @Test
  void rbacDeniesOtherIdentitiesAndAllowsTheNamedOne() {
    EmbeddedChannel anon = channel("rbac", RbacSpec.Peer.ANONYMOUS);
    FullHttpResponse denied = exchange(anon, get("api.test", "/direct"));
    assertThat(denied.status().code()).isEqualTo(403);
    assertThat(body(denied)).isEqualTo("RBAC: access denied");
    EmbeddedChannel other = channel("rbac", new RbacSpec.Peer(List.of("spiffe://default/other"), true));
    assertThat(body(exchange(other, get("api.test", "/direct")))).isEqualTo("RBAC: access denied");
    EmbeddedChannel gw = channel("rbac", new RbacSpec.Peer(List.of("spiffe://default/gateway"), true));
    assertThat(body(exchange(gw, get("api.test", "/direct")))).isEqualTo("teapot");
    anon.finishAndReleaseAll();
    other.finishAndReleaseAll();
    gw.finishAndReleaseAll();
  }

  @Test
  void clusterWithoutEndpointsIs503AndOversizedBodyIs413() {
    EmbeddedChannel ch = channel("plain", RbacSpec.Peer.ANONYMOUS);
    FullHttpResponse r = exchange(ch, get("api.test", "/empty"));
    assertThat(r.status().code()).isEqualTo(503);
    assertThat(body(r)).isEqualTo("no healthy upstream");
    DefaultFullHttpRequest big = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/empty",
        Unpooled.wrappedBuffer(new byte[2048]));
    big.headers().set("host", "api.test").setInt("content-length", 2048);
    ch.writeInbound(big);
    FullHttpResponse tooBig = ch.readOutbound();
    assertThat(tooBig.status().code()).isEqualTo(413);
    tooBig.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void postgresSslRequestIsAnsweredAndTlsIsRecognised() {
    EmbeddedChannel ch = new EmbeddedChannel(new TlsSniffer());
    ch.writeInbound(Unpooled.wrappedBuffer(TlsSniffer.PG_SSL_REQUEST), Unpooled.wrappedBuffer(new byte[] {0x16, 3, 1}));
    ByteBuf answer = ch.readOutbound();
    assertThat(answer.readableBytes()).isEqualTo(1);
    assertThat(answer.readByte()).isEqualTo((byte) 'S');
    answer.release();
    assertThat(ch.attr(TlsSniffer.PG).get()).isTrue();
    assertThat(ch.attr(TlsSniffer.TLS).get()).isTrue();
    ByteBuf rest = ch.readInbound();
    assertThat(rest.readableBytes()).as("the SSLRequest is consumed, the ClientHello passed on").isEqualTo(3);
    rest.release();
    ch.finishAndReleaseAll();

    EmbeddedChannel plain = new EmbeddedChannel(new TlsSniffer());
    plain.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
    assertThat(plain.attr(TlsSniffer.TLS).get()).isFalse();
    assertThat((Object) plain.readOutbound()).isNull();
    plain.finishAndReleaseAll();
  }

  @Test
  void connectionHeaderTokensNameHopByHopHeadersToDrop() {
    var h = new io.netty.handler.codec.http.DefaultHttpHeaders();
    h.add("connection", "keep-alive, X-Hop ,close");
    h.add("connection", "x-other");
    h.add("x-hop", "1").add("x-other", "2").add("x-kept", "3").add("keep-alive", "timeout=5");
    HttpProxyHandler.removeConnectionTokens(h);
    assertThat(h.contains("x-hop")).isFalse();
    assertThat(h.contains("x-other")).isFalse();
    assertThat(h.get("x-kept")).isEqualTo("3");
    assertThat(h.get("keep-alive")).as("removed with the other fixed hop-by-hop headers, not here").isEqualTo("timeout=5");

    var plain = new io.netty.handler.codec.http.DefaultHttpHeaders().add("connection", "Keep-Alive").add("x-kept", "1");
    HttpProxyHandler.removeConnectionTokens(plain);
    assertThat(plain.names()).containsExactlyInAnyOrder("connection", "x-kept");
  }
}
