package io.trellis.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The downstream HTTP/1.1 codec of the fast path: parses request heads in place into {@link RawRequest}s and
 * forwards Content-Length bodies as slices of the received buffers; encodes the proxy's local replies. It
 * handles only the plain cases - origin-form HTTP/1.1 requests with CRLF line endings, visible-ASCII header
 * values, at most one Content-Length, no Transfer-Encoding, Expect or Upgrade, a Connection header naming only
 * close/keep-alive, a head within {@link #MAX_HEAD} bytes. Anything else, at the next request boundary, hands
 * the connection for good to Netty's {@link HttpServerCodec} (which decodes or rejects it exactly as before).
 *
 * <p>A request is handed on only when the previous response is complete ({@link #responseDone}): pipelined
 * requests wait here as bytes, at most {@link #MAX_PENDING} before reading pauses.
 */
final class RawHttp1Codec extends ChannelDuplexHandler {
  static final int MAX_HEAD = 8192;
  static final int MAX_PENDING = 64 * 1024;
  private static final int MAX_HEADERS = 64;
  private static final byte[] HTTP11 = "HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 'a' + 'A'] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private ChannelHandlerContext ctx;
  private ByteBuf pending;
  /** Body bytes of the current request still to come. */
  private long bodyLeft;
  /** A request was handed on and its response is not complete. */
  private boolean waiting;
  private boolean draining;
  /** Between a read's first channelRead and its channelReadComplete. */
  private boolean reading;
  private boolean gone;
  private final int[] lines = new int[MAX_HEADERS * 5];
  /** The current head's bytes; a request's {@link RawRequest} reads them until the next head is parsed. */
  private final byte[] scratch = new byte[MAX_HEAD];

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    gone = true;
    releasePending();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    gone = true;
    releasePending();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (gone) {
      in.release();
      return;
    }
    reading = true;
    pending = pending == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), pending, in);
    drain();
    if (waiting && bodyLeft == 0 && full() && ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    ctx.fireChannelReadComplete();
  }

  boolean reading() {
    return reading;
  }

  /** Too many pipelined bytes wait for the current response. */
  boolean full() {
    return pending != null && pending.readableBytes() >= MAX_PENDING;
  }

  /** The current exchange finished with the connection kept: the next request may go. */
  void responseDone() {
    if (gone) {
      return;
    }
    waiting = false;
    drain();
    if (!waiting && !gone && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (pending != null && !gone) {
        if (bodyLeft > 0) {
          int n = (int) Math.min(bodyLeft, pending.readableBytes());
          if (n == 0) {
            break;
          }
          ByteBuf body;
          if (n == pending.readableBytes()) {
            body = pending;
            pending = null;
          } else {
            body = pending.readRetainedSlice(n);
          }
          bodyLeft -= n;
          ctx.fireChannelRead(bodyLeft == 0 ? new DefaultLastHttpContent(body) : new DefaultHttpContent(body));
          continue;
        }
        if (waiting || !pending.isReadable()) {
          break;
        }
        int end = headEnd();
        if (end == 0) {
          if (pending.readableBytes() >= MAX_HEAD) {
            fallback();
            return;
          }
          break;
        }
        RawRequest req = end > 0 ? parse(end) : null;
        if (req == null) {
          fallback();
          return;
        }
        waiting = true;
        bodyLeft = req.contentLength > 0 ? req.contentLength : 0;
        ctx.fireChannelRead(req);
        if (req.contentLength <= 0) {
          ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        }
      }
      if (pending != null && !pending.isReadable()) {
        releasePending();
      }
    } finally {
      draining = false;
    }
  }

  /**
   * Where the head ends (the index after its empty line), 0 when it is not complete within the first
   * {@link #MAX_HEAD} bytes, -1 when it does not
   * take the plain form (a line ending without CR, or an empty line before the request line).
   */
  private int headEnd() {
    int start = pending.readerIndex();
    // Larger heads are not looked at: Netty's decoder applies its limits to them.
    int limit = Math.min(pending.writerIndex(), start + MAX_HEAD);
    int pos = start;
    while (true) {
      int lf = pending.indexOf(pos, limit, (byte) '\n');
      if (lf < 0) {
        return 0;
      }
      if (lf == pos || pending.getByte(lf - 1) != '\r') {
        return -1;
      }
      if (lf - 1 == pos) {
        return pos == start ? -1 : lf + 1;
      }
      pos = lf + 1;
    }
  }

  /**
   * The request in {@code [readerIndex, end)}, consumed; null (nothing consumed) when Netty's decoder must take
   * it. The head is copied once into {@link #scratch} and parsed there.
   */
  private RawRequest parse(int end) {
    int len = end - pending.readerIndex();
    byte[] a = scratch;
    pending.getBytes(pending.readerIndex(), a, 0, len);
    int lineEnd = indexOf(a, 0, len, (byte) '\r');
    if (a[lineEnd + 1] != '\n') {
      return null;
    }
    // Request line: METHOD SP origin-form SP HTTP/1.1
    int sp1 = indexOf(a, 0, lineEnd, (byte) ' ');
    if (sp1 <= 0 || sp1 > 16) {
      return null;
    }
    for (int i = 0; i < sp1; i++) {
      if (a[i] < 'A' || a[i] > 'Z') {
        return null;
      }
    }
    int sp2 = indexOf(a, sp1 + 1, lineEnd, (byte) ' ');
    if (sp2 < 0 || a[sp1 + 1] != '/' || lineEnd - sp2 - 1 != HTTP11.length) {
      return null;
    }
    for (int i = sp1 + 1; i < sp2; i++) {
      if (a[i] <= 0x20 || a[i] >= 0x7f) {
        return null;
      }
    }
    for (int i = 0; i < HTTP11.length; i++) {
      if (a[sp2 + 1 + i] != HTTP11[i]) {
        return null;
      }
    }
    int count = 0;
    boolean close = false;
    long contentLength = -1;
    String host = null;
    int hosts = 0;
    int pos = lineEnd + 2;
    while (pos < len - 2) {
      int eol = indexOf(a, pos, len, (byte) '\r');
      if (a[eol + 1] != '\n') {
        return null;
      }
      int colon = pos;
      while (colon < eol && a[colon] != ':') {
        if (a[colon] < 0 || !TCHAR[a[colon]]) {
          return null;
        }
        colon++;
      }
      if (colon == pos || colon == eol || count == MAX_HEADERS) {
        return null;
      }
      int vs = colon + 1;
      while (vs < eol && isOws(a[vs])) {
        vs++;
      }
      int ve = eol;
      while (ve > vs && isOws(a[ve - 1])) {
        ve--;
      }
      for (int i = vs; i < ve; i++) {
        byte c = a[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f) {
          return null;
        }
      }
      int kind = RawRequest.kind(a, pos, colon);
      switch (kind) {
        case RawRequest.HOST -> {
          hosts++;
          host = new String(a, vs, ve - vs, StandardCharsets.ISO_8859_1);
        }
        case RawRequest.CONTENT_LENGTH -> {
          if (contentLength >= 0 || ve == vs || ve - vs > 18) {
            return null;
          }
          long n = 0;
          for (int i = vs; i < ve; i++) {
            if (a[i] < '0' || a[i] > '9') {
              return null;
            }
            n = n * 10 + (a[i] - '0');
          }
          contentLength = n;
        }
        case RawRequest.TRANSFER_ENCODING, RawRequest.EXPECT, RawRequest.UPGRADE, RawRequest.HTTP2_SETTINGS -> {
          return null;
        }
        case RawRequest.CONNECTION -> {
          int t = connectionTokens(a, vs, ve);
          if (t < 0) {
            return null;
          }
          close |= t == 1;
        }
        default -> { }
      }
      int o = count * 5;
      lines[o] = pos;
      lines[o + 1] = colon;
      lines[o + 2] = vs;
      lines[o + 3] = ve;
      lines[o + 4] = kind;
      count++;
      pos = eol + 2;
    }
    if (hosts > 1) {
      return null;
    }
    String method = method(a, sp1);
    String uri = new String(a, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
    pending.skipBytes(len);
    return new RawRequest(this, a, len, method, uri, !close, contentLength, host, lines, count);
  }

  static int indexOf(byte[] a, int from, int to, byte value) {
    for (int i = from; i < to; i++) {
      if (a[i] == value) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isOws(byte c) {
    return c == ' ' || c == '\t';
  }

  /** 1 if the Connection value says close, 0 for keep-alive or nothing, -1 if it names other headers. */
  private static int connectionTokens(byte[] b, int vs, int ve) {
    int result = 0;
    int i = vs;
    while (i <= ve) {
      int comma = indexOf(b, i, ve, (byte) ',');
      int te = comma < 0 ? ve : comma;
      int a = i;
      int z = te;
      while (a < z && isOws(b[a])) {
        a++;
      }
      while (z > a && isOws(b[z - 1])) {
        z--;
      }
      if (z - a == 5 && RawRequest.equalsIgnoreCase(b, a, "close")) {
        result = 1;
      } else if (z > a && !(z - a == 10 && RawRequest.equalsIgnoreCase(b, a, "keep-alive"))) {
        return -1;
      }
      i = te + 1;
    }
    return result;
  }

  private static String method(byte[] a, int len) {
    if (len == 3 && a[0] == 'G' && a[1] == 'E' && a[2] == 'T') {
      return "GET";
    }
    if (len == 4 && a[0] == 'P' && a[1] == 'O' && a[2] == 'S' && a[3] == 'T') {
      return "POST";
    }
    if (len == 4 && a[0] == 'H' && a[1] == 'E' && a[2] == 'A' && a[3] == 'D') {
      return "HEAD";
    }
    return new String(a, 0, len, StandardCharsets.ISO_8859_1);
  }

  /** From here on, Netty's codec decodes this connection (the request at hand and all later ones). */
  private void fallback() {
    ChannelPipeline p = ctx.pipeline();
    p.addAfter(ctx.name(), "http", new HttpServerCodec(8192, 65536, 65536));
    p.addAfter("http", "continue", new HttpServerExpectContinueHandler());
    ByteBuf rest = pending;
    pending = null;
    p.remove(this);
    if (rest != null) {
      ctx.fireChannelRead(rest);
      ctx.fireChannelReadComplete();
    }
  }

  private void releasePending() {
    if (pending != null) {
      pending.release();
      pending = null;
    }
  }

  // ------------------------------------------------------------ outbound: the proxy's local replies

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof FullHttpResponse res) {
      ByteBuf out;
      try {
        out = encode(ctx, res);
      } finally {
        res.release();
      }
      ctx.write(out, promise);
      return;
    }
    ctx.write(msg, promise);
  }

  private static ByteBuf encode(ChannelHandlerContext ctx, FullHttpResponse res) {
    ByteBuf body = res.content();
    ByteBuf out = ctx.alloc().buffer(128 + body.readableBytes());
    ByteBufUtil.writeAscii(out, "HTTP/1.1 ");
    ByteBufUtil.writeAscii(out, res.status().codeAsText());
    out.writeByte(' ');
    ByteBufUtil.writeAscii(out, res.status().reasonPhrase());
    out.writeByte('\r').writeByte('\n');
    for (var it = res.headers().iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      RawRequest.header(out, e.getKey(), e.getValue());
    }
    out.writeByte('\r').writeByte('\n');
    out.writeBytes(body, body.readerIndex(), body.readableBytes());
    return out;
  }
}
