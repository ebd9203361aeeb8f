package io.trellis.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.trellis.gateway.config.RbacSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fast path's request codec and response parser, driven through EmbeddedChannels (no sockets). */
class RawHttp1Test {
  @BeforeAll
  static void setUp() {
    HttpProxyHandlerTest.setUp();
  }

  @AfterAll
  static void tearDown() {
    HttpProxyHandlerTest.tearDown();
  }

  /** Keeps what the codec hands on; releases raw heads after reading them like the proxy does. */
  static final class Capture extends ChannelInboundHandlerAdapter {
    final List<Object> seen = new ArrayList<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      seen.add(msg);
    }
  }

  static ByteBuf ascii(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  static String text(ByteBuf b) {
    try {
      return b.toString(StandardCharsets.ISO_8859_1);
    } finally {
      b.release();
    }
  }

  static String body(List<Object> seen, int from) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < seen.size(); i++) {
      if (seen.get(i) instanceof HttpContent c) {
        sb.append(c.content().toString(StandardCharsets.ISO_8859_1));
      }
    }
    return sb.toString();
  }

  static void releaseAll(List<Object> seen) {
    for (Object o : seen) {
      if (o instanceof RawRequest r) {
        r.release();
      } else {
        ReferenceCountUtil.release(o);
      }
    }
  }

  @Test
  void headSplitAcrossReadsThenBodyAsSlicesThenPipelinedRequestWaitsForTheResponse() {
    RawHttp1Codec codec = new RawHttp1Codec();
    Capture cap = new Capture();
    EmbeddedChannel ch = new EmbeddedChannel(codec, cap);
    String req1 = "POST /a/b?x=1 HTTP/1.1\r\nHost: api.test\r\nContent-Length: 11\r\nX-Other: v  \r\n\r\nhello world";
    String req2 = "GET /next HTTP/1.1\r\nhost: two\r\nConnection: close\r\n\r\n";
    String all = req1 + req2;
    for (int i = 0; i < all.length(); i += 7) {
      ch.writeInbound(ascii(all.substring(i, Math.min(all.length(), i + 7))));
    }
    assertThat(cap.seen.get(0)).isInstanceOf(RawRequest.class);
    RawRequest r = (RawRequest) cap.seen.get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.uri()).isEqualTo("/a/b?x=1");
    assertThat(r.host()).isEqualTo("api.test");
    assertThat(r.header("X-OTHER")).isEqualTo("v");
    assertThat(r.contentLength).isEqualTo(11);
    assertThat(r.keepAlive).isTrue();
    assertThat(body(cap.seen, 1)).isEqualTo("hello world");
    assertThat(cap.seen.get(cap.seen.size() - 1)).isInstanceOf(LastHttpContent.class);
    int before = cap.seen.size();
    // The second request stays in the codec until the first response is complete.
    assertThat(cap.seen.stream().filter(o -> o instanceof RawRequest).count()).isEqualTo(1);
    codec.responseDone();
    RawRequest r2 = (RawRequest) cap.seen.get(before);
    assertThat(r2.uri()).isEqualTo("/next");
    assertThat(r2.host()).isEqualTo("two");
    assertThat(r2.keepAlive).isFalse();
    assertThat(cap.seen.get(before + 1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    releaseAll(cap.seen);
    ch.finishAndReleaseAll();
  }

  @Test
  void upstreamHeadDropsHopByHopHeadersAndSetsTheProxysOwn() {
    Capture cap = new Capture();
    EmbeddedChannel ch = new EmbeddedChannel(new RawHttp1Codec(), cap);
    ch.writeInbound(ascii("GET /p HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
        + "X-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nVia: 1.0 corp\r\nX-Trellis-Request-Id: forged\r\n"
        + "X-Consumer-Username: mallory\r\napikey: k\r\nAccept: */*\r\n\r\n"));
    RawRequest r = (RawRequest) cap.seen.get(0);
    String head = text(r.upstreamHead(ByteBufAllocator.DEFAULT, "/rewritten", "192.0.2.9", true, "rid", true, "alice",
        List.of("apikey")));
    assertThat(head).isEqualTo("GET /rewritten HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nx-consumer-username: alice\r\n"
        + "x-forwarded-for: 10.0.0.1, 192.0.2.9\r\nx-forwarded-proto: https\r\nx-trellis-request-id: rid\r\n"
        + "via: 1.0 corp, 1.1 trellis\r\n\r\n");
    releaseAll(cap.seen);
    ch.finishAndReleaseAll();
  }

  /** Each of these goes to Netty's codec: the proxy then sees a decoded HttpRequest (or its decoder failure). */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "chunked body|POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "content-length and transfer-encoding|POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "two content-lengths|POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "content-length not a number|POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\na",
      "expect|POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na",
      "upgrade|GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      "connection naming a header|GET / HTTP/1.1\r\nHost: h\r\nConnection: x-secret\r\nX-Secret: 1\r\n\r\n",
      "two hosts|GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "bare LF|GET / HTTP/1.1\nHost: h\n\n",
      "bare CR in a value|GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rX-B: b\r\n\r\n",
      "obs-fold|GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n",
      "space before colon|GET / HTTP/1.1\r\nHost : h\r\n\r\n",
      "control character in a value|GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n",
      "non-ASCII value|GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\u00e9\r\n\r\n",
      "HTTP/1.0|GET / HTTP/1.0\r\nHost: h\r\n\r\n",
      "absolute-form target|GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
      "lower-case method|get / HTTP/1.1\r\nHost: h\r\n\r\n",
      "leading empty line|\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "not HTTP|\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003\r\n\r\n"})
  void unusualRequestsGoToNettysDecoder(String c) {
    String raw = c.substring(c.indexOf('|') + 1);
    Capture cap = new Capture();
    EmbeddedChannel ch = new EmbeddedChannel(new RawHttp1Codec(), cap);
    ch.writeInbound(ascii(raw));
    assertThat(cap.seen).isNotEmpty();
    assertThat(cap.seen.get(0)).isInstanceOf(HttpRequest.class);
    assertThat(ch.pipeline().get(RawHttp1Codec.class)).isNull();
    assertThat(ch.pipeline().get("http")).isNotNull();
    releaseAll(cap.seen);
    ch.finishAndReleaseAll();
  }

  @Test
  void oversizedHeadsGoToNettysDecoderWhichRefusesThem() {
    Capture cap = new Capture();
    EmbeddedChannel ch = new EmbeddedChannel(new RawHttp1Codec(), cap);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "a".repeat(70_000) + "\r\n\r\n"));
    HttpRequest r = (HttpRequest) cap.seen.get(0);
    assertThat(r.decoderResult().isFailure()).isTrue();
    releaseAll(cap.seen);
    ch.finishAndReleaseAll();
  }

  @Test
  void localRepliesThroughTheCodecAnswerPipelinedRequestsInOrder() {
    EmbeddedChannel ch = new EmbeddedChannel(new RawHttp1Codec(),
        new HttpProxyHandler(HttpProxyHandlerTest.dp, "plain", null, false, RbacSpec.Peer.ANONYMOUS, false));
    ch.writeInbound(ascii("GET /nowhere HTTP/1.1\r\nHost: other.test\r\n\r\nGET /direct HTTP/1.1\r\nHost: api.test\r\n\r\n"
        + "GET /direct HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n"));
    String first = text(ch.readOutbound());
    assertThat(first).startsWith("HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ")
        .contains("\r\nx-trellis-request-id: ").contains("{\"message\":\"no Route matched with those values\"");
    String id = first.substring(first.indexOf("x-trellis-request-id: ") + 22, first.indexOf("x-trellis-request-id: ") + 58);
    assertThat(first).endsWith("\"request_id\":\"" + id + "\"}");
    assertThat(text(ch.readOutbound())).startsWith("HTTP/1.1 418 ").endsWith("\r\n\r\nteapot")
        .doesNotContain("connection");
    assertThat(text(ch.readOutbound())).startsWith("HTTP/1.1 418 ").contains("\r\nconnection: close\r\n");
    ByteBuf end = ch.readOutbound();
    assertThat(end.isReadable()).isFalse();
    end.release();
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    ch.finishAndReleaseAll();
  }

  // ------------------------------------------------------------------ responses

  static final class Events implements RawResponse.Listener {
    final StringBuilder out = new StringBuilder();
    boolean last;
    String error;
    int status;

    @Override
    public void responseHead(RawResponse r) {
      status = r.status;
      out.append(text(r.writeHead(ByteBufAllocator.DEFAULT, "rid", 1, 2, false)));
    }

    @Override
    public void responseBody(ByteBuf body, boolean last) {
      out.append(text(body));
      this.last |= last;
    }

    @Override
    public void responseError(String reason) {
      error = reason;
    }
  }

  static Events feed(RawResponse p, String response, int step) {
    Events e = new Events();
    for (int i = 0; i < response.length(); i += step) {
      p.feed(ByteBufAllocator.DEFAULT, ascii(response.substring(i, Math.min(response.length(), i + step))), e);
    }
    return e;
  }

  @ParameterizedTest(name = "split every {0} bytes")
  @ValueSource(ints = {1, 3, 10, 1000})
  void responsesOfEachFramingAreForwardedWithTheProxysHeaders(int step) {
    RawResponse p = new RawResponse();
    p.reset(false);
    Events e = feed(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, x-hop\r\n"
        + "X-Hop: 1\r\nX-Trellis-Upstream-Latency: 99\r\nVia: 1.1 app\r\nServer: t\r\n\r\nhello", step);
    assertThat(e.out.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\nx-trellis-request-id: rid\r\n"
        + "x-trellis-upstream-latency: 1\r\nx-trellis-proxy-latency: 2\r\nvia: 1.1 app, 1.1 trellis\r\n\r\nhello");
    assertThat(e.last).isTrue();
    assertThat(p.keepAlive).isTrue();
    assertThat(p.trailingGarbage).isFalse();

    p.reset(false);
    String chunked = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n"
        + "0\r\nX-Trailer: t\r\n\r\n";
    e = feed(p, chunked, step);
    assertThat(e.out.toString()).startsWith("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nx-trellis-request-id: rid")
        .endsWith("\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n");
    assertThat(e.last).isTrue();

    p.reset(false);
    e = feed(p, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil close", step);
    assertThat(e.last).isFalse();
    assertThat(p.untilClose()).isTrue();
    assertThat(p.keepAlive).isFalse();
    p.upstreamClosed(ByteBufAllocator.DEFAULT, e);
    assertThat(e.last).isTrue();
    assertThat(e.out.toString()).startsWith("HTTP/1.1 200 OK\r\nServer: old\r\ntransfer-encoding: chunked\r\n")
        .endsWith("0\r\n\r\n").contains("\r\n\r\n");
    assertThat(dechunk(e.out.substring(e.out.indexOf("\r\n\r\n") + 4))).isEqualTo("until close");
  }

  static String dechunk(String s) {
    StringBuilder b = new StringBuilder();
    int i = 0;
    while (true) {
      int crlf = s.indexOf("\r\n", i);
      int n = Integer.parseInt(s.substring(i, crlf), 16);
      if (n == 0) {
        assertThat(s.substring(crlf)).isEqualTo("\r\n\r\n");
        return b.toString();
      }
      b.append(s, crlf + 2, crlf + 2 + n);
      assertThat(s.substring(crlf + 2 + n, crlf + 4 + n)).isEqualTo("\r\n");
      i = crlf + 4 + n;
    }
  }

  @Test
  void headAndNoContentResponsesHaveNoBodyAndExtraBytesForbidReuse() {
    RawResponse p = new RawResponse();
    p.reset(true);
    Events e = feed(p, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1000);
    assertThat(e.last).isTrue();
    assertThat(p.trailingGarbage).isFalse();
    p.reset(false);
    e = feed(p, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n", 1000);
    assertThat(e.last).isTrue();
    assertThat(p.trailingGarbage).isTrue();
    p.reset(false);
    e = feed(p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nokX", 1000);
    assertThat(e.out.toString()).endsWith("\r\n\r\nok");
    assertThat(p.keepAlive).isFalse();
    assertThat(p.trailingGarbage).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "content-length and transfer-encoding|HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "conflicting content-lengths|HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
      "other transfer-coding|HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "101 without an upgrade|HTTP/1.1 101 Switching Protocols\r\n\r\n",
      "not HTTP|SSH-2.0-OpenSSH_9.6\r\n\r\n",
      "HTTP/2 status line|HTTP/2 200\r\n\r\n",
      "obs-fold|HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n",
      "bad chunk size|HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "chunk without CRLF|HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"})
  void malformedResponsesAreErrors(String c) {
    RawResponse p = new RawResponse();
    p.reset(false);
    Events e = feed(p, c.substring(c.indexOf('|') + 1), 1000);
    assertThat(e.error).isNotNull();
    assertThat(e.last).isFalse();
  }
}
