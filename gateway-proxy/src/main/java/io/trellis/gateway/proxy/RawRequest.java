package io.trellis.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.AsciiString;
import io.trellis.gateway.config.RequestView;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An HTTP/1.1 request head parsed by {@link RawHttp1Codec}: the request line and the offsets of each header
 * line in the codec's copy of the head's bytes. Only heads that need no interpretation beyond what
 * this class does get here (the codec hands everything else to Netty's decoder); the proxy builds the
 * upstream head from the received header lines plus its own, without a decoded header map.
 */
final class RawRequest implements RequestView {
  // Header names the proxy acts on, by index; matched case-insensitively when the head is parsed.
  static final int OTHER = 0;
  static final int HOST = 1;
  static final int CONTENT_LENGTH = 2;
  static final int TRANSFER_ENCODING = 3;
  static final int CONNECTION = 4;
  static final int EXPECT = 5;
  static final int UPGRADE = 6;
  static final int KEEP_ALIVE = 7;
  static final int PROXY_CONNECTION = 8;
  static final int TE = 9;
  static final int TRAILER = 10;
  static final int X_FORWARDED_FOR = 11;
  static final int X_FORWARDED_PROTO = 12;
  static final int REQUEST_ID = 13;
  static final int VIA = 14;
  static final int CONSUMER = 15;
  static final int HTTP2_SETTINGS = 16;
  private static final AsciiString[] NAMES = {null, AsciiString.cached("host"), AsciiString.cached("content-length"),
      AsciiString.cached("transfer-encoding"), AsciiString.cached("connection"), AsciiString.cached("expect"),
      AsciiString.cached("upgrade"), AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"),
      AsciiString.cached("te"), AsciiString.cached("trailer"), AsciiString.cached("x-forwarded-for"),
      AsciiString.cached("x-forwarded-proto"), HttpProxyHandler.REQUEST_ID, AsciiString.cached("via"),
      HttpProxyHandler.CONSUMER, AsciiString.cached("http2-settings")};
  /** Headers never forwarded as received: hop-by-hop ones and those the proxy sets itself. */
  private static final boolean[] DROPPED = new boolean[NAMES.length];

  static {
    for (int k : new int[] {CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, TE, TRAILER, UPGRADE, EXPECT, X_FORWARDED_FOR,
        X_FORWARDED_PROTO, REQUEST_ID, VIA}) {
      DROPPED[k] = true;
    }
  }

  final RawHttp1Codec codec;
  /** The head's bytes from the request line on (the codec's buffer, valid until {@link #release}). */
  private byte[] head;
  private final int length;
  private final String method;
  private final String uri;
  final boolean keepAlive;
  final long contentLength;
  private final String host;
  /** Per header line: name start, name end, value start, value end, kind (offsets into {@link #head}). */
  private final int[] lines;
  private final int count;

  RawRequest(RawHttp1Codec codec, byte[] head, int length, String method, String uri, boolean keepAlive, long contentLength,
      String host, int[] lines, int count) {
    this.codec = codec;
    this.head = head;
    this.length = length;
    this.method = method;
    this.uri = uri;
    this.keepAlive = keepAlive;
    this.contentLength = contentLength;
    this.host = host;
    this.lines = lines;
    this.count = count;
  }

  static int kind(byte[] buf, int start, int end) {
    return kind(buf, start, end, NAMES);
  }

  /** Whether the bytes at {@code start} spell {@code lowerName} (lower case) in any case. */
  static boolean equalsIgnoreCase(byte[] buf, int start, CharSequence lowerName) {
    for (int i = 0; i < lowerName.length(); i++) {
      int b = buf[start + i];
      if (b >= 'A' && b <= 'Z') {
        b += 'a' - 'A';
      }
      if (b != lowerName.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The index in {@code names} (lower case; index 0 unused) of the header name in [start, end), or 0. */
  static int kind(byte[] buf, int start, int end, AsciiString[] names) {
    int len = end - start;
    for (int k = 1; k < names.length; k++) {
      if (names[k].length() == len && equalsIgnoreCase(buf, start, names[k])) {
        return k;
      }
    }
    return OTHER;
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String uri() {
    return uri;
  }

  String host() {
    return host;
  }

  boolean isHead() {
    return "HEAD".equals(method);
  }

  @Override
  public String header(String name) {
    String lower = name.toLowerCase(java.util.Locale.ROOT);
    for (int i = 0; i < count; i++) {
      int o = i * 5;
      if (lines[o + 1] - lines[o] == lower.length() && equalsIgnoreCase(head, lines[o], lower)) {
        return value(i);
      }
    }
    return null;
  }

  private String value(int line) {
    int o = line * 5;
    return new String(head, lines[o + 2], lines[o + 3] - lines[o + 2], StandardCharsets.ISO_8859_1);
  }

  /** The first value of a header the codec classified, or null. */
  private String first(int kind) {
    for (int i = 0; i < count; i++) {
      if (lines[i * 5 + 4] == kind) {
        return value(i);
      }
    }
    return null;
  }

  /**
   * The head to send upstream, with the same edits the decoded path makes: hop-by-hop headers dropped,
   * x-forwarded-for appended to, x-forwarded-proto, the request id and via set, the consumer header replaced
   * (when key-auth runs) and the key's headers removed (hide_credentials).
   */
  ByteBuf upstreamHead(ByteBufAllocator alloc, String target, String clientIp, boolean tls, CharSequence requestId,
      boolean dropConsumer, String consumer, List<String> hiddenHeaders) {
    ByteBuf out = alloc.buffer(length + 160);
    ByteBufUtil.writeAscii(out, method);
    out.writeByte(' ');
    out.writeCharSequence(target, StandardCharsets.UTF_8);
    out.writeBytes(HTTP11_CRLF);
    for (int i = 0; i < count; i++) {
      int o = i * 5;
      int k = lines[o + 4];
      if (DROPPED[k] || (k == CONSUMER && dropConsumer) || (hiddenHeaders != null && hidden(o, hiddenHeaders))) {
        continue;
      }
      out.writeBytes(head, lines[o], lines[o + 1] - lines[o]);
      out.writeByte(':').writeByte(' ');
      out.writeBytes(head, lines[o + 2], lines[o + 3] - lines[o + 2]);
      out.writeByte('\r').writeByte('\n');
    }
    if (consumer != null) {
      header(out, HttpProxyHandler.CONSUMER, consumer);
    }
    if (clientIp != null) {
      String xff = first(X_FORWARDED_FOR);
      header(out, NAMES[X_FORWARDED_FOR], xff == null ? clientIp : xff + ", " + clientIp);
    }
    header(out, NAMES[X_FORWARDED_PROTO], tls ? HTTPS : HTTP);
    header(out, HttpProxyHandler.REQUEST_ID, requestId);
    String via = first(VIA);
    header(out, NAMES[VIA], via == null ? VIA_VALUE : via + ", " + HttpProxyHandler.VIA);
    out.writeByte('\r').writeByte('\n');
    return out;
  }

  private boolean hidden(int o, List<String> names) {
    for (String n : names) {
      if (lines[o + 1] - lines[o] == n.length() && equalsIgnoreCase(head, lines[o], n.toLowerCase(java.util.Locale.ROOT))) {
        return true;
      }
    }
    return false;
  }

  /** Writes one header line; AsciiString names and values are copied as arrays, Strings char by char (ISO-8859-1). */
  static void header(ByteBuf out, CharSequence name, CharSequence value) {
    ByteBufUtil.writeAscii(out, name);
    out.writeByte(':').writeByte(' ');
    ByteBufUtil.writeAscii(out, value);
    out.writeByte('\r').writeByte('\n');
  }

  static final AsciiString VIA_VALUE = AsciiString.cached(HttpProxyHandler.VIA);
  private static final AsciiString HTTPS = AsciiString.cached("https");
  private static final AsciiString HTTP = AsciiString.cached("http");

  private static final byte[] HTTP11_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Frees the head's bytes; header lookups are valid only before. */
  void release() {
    head = null;
  }
}
