package io.trellis.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The upstream side of the fast path: reads an HTTP/1.x response from the raw bytes of an upstream connection,
 * hands the head to the exchange (which writes it downstream with the proxy's edits, {@link #writeHead}) and
 * the body as retained slices, its framing tracked (Content-Length countdown, chunked parser, or until the
 * upstream closes - re-framed as chunked for the client, as the decoded path does). 1xx interim responses are
 * dropped. One instance per downstream connection, {@link #reset} per exchange.
 */
final class RawResponse {
  /** What the parser reports to its exchange. */
  interface Listener {
    /** The head is complete; {@link #writeHead} writes it. */
    void responseHead(RawResponse r);

    void responseBody(ByteBuf body, boolean last);

    /** The upstream did not speak HTTP/1.x as this parser reads it; nothing more will be reported. */
    void responseError(String reason);
  }

  static final int MAX_HEAD = 4096 + 65536;
  private static final int MAX_HEADERS = 128;
  private static final int CONTENT_LENGTH = 1;
  private static final int TRANSFER_ENCODING = 2;
  private static final int CONNECTION = 3;
  private static final int DROP = 4;
  private static final AsciiString[] NAMES = {null, AsciiString.cached("content-length"),
      AsciiString.cached("transfer-encoding"), AsciiString.cached("connection"), AsciiString.cached("keep-alive"),
      AsciiString.cached("proxy-connection"), AsciiString.cached("trailer"), AsciiString.cached("upgrade"),
      HttpProxyHandler.REQUEST_ID, HttpProxyHandler.UPSTREAM_LATENCY, HttpProxyHandler.PROXY_LATENCY,
      AsciiString.cached("via")};
  private static final int VIA = NAMES.length - 1;
  private static final AsciiString VIA_NAME = NAMES[VIA];
  private static final AsciiString TRANSFER_ENCODING_CHUNKED = NAMES[TRANSFER_ENCODING];
  private static final AsciiString CHUNKED = AsciiString.cached("chunked");
  private static final AsciiString CLOSE = AsciiString.cached("close");
  private static final byte[] HTTP1 = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private enum State { HEAD, LENGTH, CHUNK_SIZE, CHUNK_EXT, CHUNK_DATA, CHUNK_DATA_END, TRAILER, EOF, DONE, FAILED }

  private State state = State.HEAD;
  private boolean headRequest;
  private ByteBuf acc;
  private long left;
  private int lineLength;
  private int digits;
  int status;
  boolean keepAlive;
  /** Bytes came after the end of the response: the connection must not be reused. */
  boolean trailingGarbage;
  // The last head: a copy of its bytes, status line end and header lines (start, name end, value start, end, kind).
  private byte[] head = new byte[512];
  private int statusLineEnd;
  private final int[] lines = new int[MAX_HEADERS * 5];
  private int count;
  private List<String> connectionNamed;
  private String via;

  void reset(boolean headRequest) {
    release();
    state = State.HEAD;
    this.headRequest = headRequest;
    trailingGarbage = false;
    status = 0;
  }

  /** Whether the body runs until the upstream closes (then {@link #upstreamClosed} ends it). */
  boolean untilClose() {
    return state == State.EOF;
  }

  boolean done() {
    return state == State.DONE;
  }

  void release() {
    if (acc != null) {
      acc.release();
      acc = null;
    }
  }

  /** Consumes {@code in}. */
  void feed(ByteBufAllocator alloc, ByteBuf in, Listener l) {
    if (state == State.DONE || state == State.FAILED) {
      trailingGarbage |= in.isReadable();
      in.release();
      return;
    }
    ByteBuf buf = in;
    if (state == State.HEAD) {
      buf = acc == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, acc, in);
      acc = null;
      while (state == State.HEAD) {
        int end = headEnd(buf);
        if (end == 0) {
          if (buf.readableBytes() > MAX_HEAD) {
            fail(buf, l, "response head too large");
            return;
          }
          acc = buf;
          return;
        }
        String error = end < 0 ? "malformed response head" : parseHead(buf, end);
        if (error != null) {
          fail(buf, l, error);
          return;
        }
        if (status >= 100 && status < 200) {
          if (status == 101) {
            fail(buf, l, "unexpected 101 Switching Protocols");
            return;
          }
          buf.readerIndex(end);
          continue;
        }
        l.responseHead(this);
        buf.readerIndex(end);
        if (state == State.DONE) {
          trailingGarbage |= buf.isReadable();
          buf.release();
          l.responseBody(Unpooled.EMPTY_BUFFER, true);
          return;
        }
      }
    }
    body(alloc, buf, l);
  }

  private void fail(ByteBuf buf, Listener l, String reason) {
    state = State.FAILED;
    buf.release();
    l.responseError(reason);
  }

  /** The upstream closed while the body ran until close: the terminating chunk, if that is the body's framing. */
  void upstreamClosed(ByteBufAllocator alloc, Listener l) {
    if (state == State.EOF) {
      state = State.DONE;
      l.responseBody(Unpooled.wrappedBuffer(LAST_CHUNK), true);
    }
  }

  private void body(ByteBufAllocator alloc, ByteBuf buf, Listener l) {
    switch (state) {
      case LENGTH -> {
        int n = (int) Math.min(left, buf.readableBytes());
        if (n == 0) {
          buf.release();
          return;
        }
        left -= n;
        if (left == 0) {
          state = State.DONE;
          trailingGarbage |= buf.readableBytes() > n;
        }
        forward(buf, buf.readerIndex(), n, l);
      }
      case EOF -> {
        int n = buf.readableBytes();
        if (n == 0) {
          buf.release();
          return;
        }
        ByteBuf chunk = alloc.buffer(12);
        ByteBufUtil.writeAscii(chunk, Integer.toHexString(n));
        chunk.writeByte('\r').writeByte('\n');
        ByteBuf end = alloc.buffer(2).writeByte('\r').writeByte('\n');
        ByteBuf data = buf.readRetainedSlice(n);
        buf.release();
        l.responseBody(Unpooled.wrappedUnmodifiableBuffer(chunk, data, end), false);
      }
      default -> {
        int start = buf.readerIndex();
        int stop = chunked(buf);
        if (state == State.FAILED) {
          buf.release();
          l.responseError("malformed chunked body");
          return;
        }
        trailingGarbage |= state == State.DONE && stop < buf.writerIndex();
        forward(buf, start, stop - start, l);
      }
    }
  }

  /** Hands on {@code [from, from + n)} of {@code buf}: the buffer itself when that is all of it (no slice). */
  private void forward(ByteBuf buf, int from, int n, Listener l) {
    boolean last = state == State.DONE;
    if (from == buf.readerIndex() && n == buf.readableBytes()) {
      l.responseBody(buf, last);
      return;
    }
    ByteBuf part = buf.retainedSlice(from, n);
    buf.release();
    l.responseBody(part, last);
  }

  /** Walks chunked framing from the reader index; returns where this buffer's part of the body ends. */
  private int chunked(ByteBuf b) {
    int i = b.readerIndex();
    int n = b.writerIndex();
    while (i < n && state != State.DONE && state != State.FAILED) {
      if (state == State.CHUNK_DATA) {
        int k = (int) Math.min(left, n - i);
        i += k;
        left -= k;
        if (left == 0) {
          state = State.CHUNK_DATA_END;
          lineLength = 0;
        }
        continue;
      }
      byte c = b.getByte(i++);
      switch (state) {
        case CHUNK_SIZE -> {
          int d = Character.digit(c, 16);
          if (d >= 0 && digits < 15) {
            left = left * 16 + d;
            digits++;
          } else if (digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
            state = State.CHUNK_EXT;
          } else if (digits > 0 && (c == '\r' || c == '\n')) {
            state = State.CHUNK_EXT;
            i--;
          } else {
            state = State.FAILED;
          }
        }
        case CHUNK_EXT -> {
          if (c == '\n') {
            state = left == 0 ? State.TRAILER : State.CHUNK_DATA;
            lineLength = 0;
          } else if (c == 0) {
            state = State.FAILED;
          }
        }
        case CHUNK_DATA_END -> {
          if (c == '\n') {
            state = State.CHUNK_SIZE;
            left = 0;
            digits = 0;
          } else if (c != '\r' || lineLength++ > 0) {
            state = State.FAILED;
          }
        }
        case TRAILER -> {
          if (c == '\n') {
            if (lineLength == 0) {
              state = State.DONE;
            }
            lineLength = 0;
          } else if (c != '\r') {
            lineLength++;
          }
        }
        default -> state = State.FAILED;
      }
    }
    return i;
  }

  /** Index after the head's empty line (LF or CRLF line endings), 0 if incomplete, -1 if it starts with one. */
  private static int headEnd(ByteBuf b) {
    int start = b.readerIndex();
    int limit = b.writerIndex();
    int pos = start;
    while (true) {
      int lf = b.indexOf(pos, limit, (byte) '\n');
      if (lf < 0) {
        return 0;
      }
      boolean empty = lf == pos || (lf == pos + 1 && b.getByte(pos) == '\r');
      if (empty) {
        return pos == start ? -1 : lf + 1;
      }
      pos = lf + 1;
    }
  }

  /** Parses the head in [readerIndex, end) (copied once into {@link #head}): null, or why it is refused. */
  private String parseHead(ByteBuf buf, int end) {
    int len = end - buf.readerIndex();
    if (head.length < len) {
      head = new byte[Math.max(len, head.length * 2)];
    }
    byte[] a = head;
    buf.getBytes(buf.readerIndex(), a, 0, len);
    int lf = RawHttp1Codec.indexOf(a, 0, len, (byte) '\n');
    int le = lf > 0 && a[lf - 1] == '\r' ? lf - 1 : lf;
    if (le < 12) {
      return "malformed status line";
    }
    for (int i = 0; i < HTTP1.length; i++) {
      if (a[i] != HTTP1[i]) {
        return "malformed status line";
      }
    }
    byte minor = a[7];
    if ((minor != '0' && minor != '1') || a[8] != ' ') {
      return "unsupported HTTP version";
    }
    int code = 0;
    for (int i = 9; i < 12; i++) {
      if (a[i] < '0' || a[i] > '9') {
        return "malformed status code";
      }
      code = code * 10 + a[i] - '0';
    }
    if (le > 12 && a[12] != ' ') {
      return "malformed status line";
    }
    for (int i = 12; i < le; i++) {
      if (a[i] == '\r' || a[i] == 0) {
        return "malformed status line";
      }
    }
    status = code;
    statusLineEnd = le;
    keepAlive = minor == '1';
    count = 0;
    connectionNamed = null;
    via = null;
    long contentLength = -1;
    boolean chunked = false;
    int pos = lf + 1;
    while (pos < len) {
      int nl = RawHttp1Codec.indexOf(a, pos, len, (byte) '\n');
      int e = nl > pos && a[nl - 1] == '\r' ? nl - 1 : nl;
      if (e == pos) {
        break;
      }
      int colon = RawHttp1Codec.indexOf(a, pos, e, (byte) ':');
      if (colon <= pos || count == MAX_HEADERS || isOws(a[pos]) || isOws(a[colon - 1])) {
        return "malformed header line";
      }
      for (int i = pos; i < e; i++) {
        if (a[i] == '\r' || a[i] == 0) {
          return "malformed header line";
        }
      }
      int vs = colon + 1;
      while (vs < e && isOws(a[vs])) {
        vs++;
      }
      int ve = e;
      while (ve > vs && isOws(a[ve - 1])) {
        ve--;
      }
      int kind = RawRequest.kind(a, pos, colon, NAMES);
      switch (kind) {
        case CONTENT_LENGTH -> {
          long v = digits(a, vs, ve);
          if (v < 0 || (contentLength >= 0 && contentLength != v)) {
            return "bad content-length";
          }
          contentLength = v;
        }
        case TRANSFER_ENCODING -> {
          if (chunked || ve - vs != 7 || !RawRequest.equalsIgnoreCase(a, vs, "chunked")) {
            return "unsupported transfer-encoding";
          }
          chunked = true;
        }
        case CONNECTION -> connection(a, vs, ve);
        default -> {
          if (kind == VIA && via == null) {
            via = new String(a, vs, ve - vs, StandardCharsets.ISO_8859_1);
          }
        }
      }
      int o = count * 5;
      lines[o] = pos;
      lines[o + 1] = colon;
      lines[o + 2] = vs;
      lines[o + 3] = ve;
      lines[o + 4] = kind;
      count++;
      pos = nl + 1;
    }
    if (chunked && contentLength >= 0) {
      return "both content-length and transfer-encoding";
    }
    if (code < 200) {
      state = State.HEAD;
    } else if (headRequest || code == 204 || code == 304) {
      state = State.DONE;
    } else if (chunked) {
      state = State.CHUNK_SIZE;
      left = 0;
      digits = 0;
    } else if (contentLength >= 0) {
      state = contentLength == 0 ? State.DONE : State.LENGTH;
      left = contentLength;
    } else {
      state = State.EOF;
      keepAlive = false;
    }
    return null;
  }

  private static long digits(byte[] a, int vs, int ve) {
    if (ve == vs || ve - vs > 18) {
      return -1;
    }
    long n = 0;
    for (int i = vs; i < ve; i++) {
      if (a[i] < '0' || a[i] > '9') {
        return -1;
      }
      n = n * 10 + a[i] - '0';
    }
    return n;
  }

  private void connection(byte[] a, int vs, int ve) {
    int n = ve - vs;
    if (n == 10 && RawRequest.equalsIgnoreCase(a, vs, "keep-alive")) {
      keepAlive = true;
      return;
    }
    if (n == 5 && RawRequest.equalsIgnoreCase(a, vs, "close")) {
      keepAlive = false;
      return;
    }
    for (String t : new String(a, vs, n, StandardCharsets.ISO_8859_1).split(",")) {
      String token = t.trim();
      if (token.equalsIgnoreCase("close")) {
        keepAlive = false;
      } else if (token.equalsIgnoreCase("keep-alive")) {
        keepAlive = true;
      } else if (!token.isEmpty()) {
        if (connectionNamed == null) {
          connectionNamed = new ArrayList<>(2);
        }
        connectionNamed.add(token);
      }
    }
  }

  private static boolean isOws(byte c) {
    return c == ' ' || c == '\t';
  }

  /**
   * The head as the client gets it, with the decoded path's edits: HTTP/1.1, hop-by-hop headers (and those
   * the Connection header names) removed, the proxy's own headers set, via appended to, chunked framing
   * added when the body runs until close, {@code Connection: close} when the client's connection ends.
   */
  ByteBuf writeHead(ByteBufAllocator alloc, CharSequence requestId, long upstreamMs, long proxyMs, boolean close) {
    byte[] b = head;
    // Room for a small body too: the exchange appends it rather than writing a second buffer.
    ByteBuf out = alloc.buffer(statusLineEnd + 64 * count + 160 + (state == State.LENGTH && left <= 1024 ? (int) left : 0));
    ByteBufUtil.writeAscii(out, "HTTP/1.1");
    out.writeBytes(b, 8, statusLineEnd - 8);
    out.writeByte('\r').writeByte('\n');
    for (int i = 0; i < count; i++) {
      int o = i * 5;
      int kind = lines[o + 4];
      if (kind >= DROP || kind == CONNECTION || named(b, lines[o], lines[o + 1])) {
        continue;
      }
      out.writeBytes(b, lines[o], lines[o + 1] - lines[o]);
      out.writeByte(':').writeByte(' ');
      out.writeBytes(b, lines[o + 2], lines[o + 3] - lines[o + 2]);
      out.writeByte('\r').writeByte('\n');
    }
    if (state == State.EOF) {
      RawRequest.header(out, TRANSFER_ENCODING_CHUNKED, CHUNKED);
    }
    RawRequest.header(out, HttpProxyHandler.REQUEST_ID, requestId);
    RawRequest.header(out, HttpProxyHandler.UPSTREAM_LATENCY, Long.toString(upstreamMs));
    RawRequest.header(out, HttpProxyHandler.PROXY_LATENCY, Long.toString(proxyMs));
    RawRequest.header(out, VIA_NAME, via == null ? RawRequest.VIA_VALUE : via + ", " + HttpProxyHandler.VIA);
    if (close) {
      RawRequest.header(out, NAMES[CONNECTION], CLOSE);
    }
    out.writeByte('\r').writeByte('\n');
    return out;
  }

  private boolean named(byte[] b, int start, int end) {
    if (connectionNamed == null) {
      return false;
    }
    String name = new String(b, start, end - start, StandardCharsets.ISO_8859_1);
    for (String n : connectionNamed) {
      if (n.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }
}
