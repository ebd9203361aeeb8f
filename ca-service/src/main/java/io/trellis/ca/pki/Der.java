package io.trellis.ca.pki;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The few DER pieces the issuance hot path writes itself (lengths, concatenation, times, TLV
 * walking), so that a leaf is assembled from precomputed bytes instead of being built and encoded
 * as an object tree on every request. Everything else stays with BouncyCastle's ASN.1 classes.
 */
final class Der {
  static final int SEQUENCE = 0x30;
  static final int OCTET_STRING = 0x04;
  static final int BIT_STRING = 0x03;
  static final int BOOLEAN = 0x01;
  static final int UTC_TIME = 0x17;
  static final int GENERALIZED_TIME = 0x18;

  private Der() {}

  /** {@code tag length content...}. */
  static byte[] tlv(int tag, byte[]... parts) {
    int len = 0;
    for (byte[] p : parts) {
      len += p.length;
    }
    int lenBytes = len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
    byte[] out = new byte[1 + lenBytes + len];
    out[0] = (byte) tag;
    if (len < 0x80) {
      out[1] = (byte) len;
    } else {
      out[1] = (byte) (0x80 | (lenBytes - 1));
      for (int i = lenBytes - 1; i >= 1; i--) {
        out[1 + i] = (byte) (len >>> (8 * (lenBytes - 1 - i)));
      }
    }
    int pos = 1 + lenBytes;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, pos, p.length);
      pos += p.length;
    }
    return out;
  }

  /**
   * RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both in whole seconds, Z.
   * Written by hand: BouncyCastle's Date-based constructors go through SimpleDateFormat.
   */
  static byte[] time(long epochSecond) {
    LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
    int year = t.getYear();
    boolean utc = year >= 1950 && year < 2050;
    byte[] s = new byte[utc ? 13 : 15];
    int p = 0;
    if (utc) {
      p = two(s, p, year % 100);
    } else {
      p = two(s, p, year / 100);
      p = two(s, p, year % 100);
    }
    p = two(s, p, t.getMonthValue());
    p = two(s, p, t.getDayOfMonth());
    p = two(s, p, t.getHour());
    p = two(s, p, t.getMinute());
    p = two(s, p, t.getSecond());
    s[p] = 'Z';
    return tlv(utc ? UTC_TIME : GENERALIZED_TIME, s);
  }

  private static int two(byte[] s, int p, int v) {
    s[p] = (byte) ('0' + v / 10);
    s[p + 1] = (byte) ('0' + v % 10);
    return p + 2;
  }

  /** Offset just past the tag and length of the element at {@code pos}; fails on anything malformed. */
  static int contentStart(byte[] der, int pos) {
    int first = der[pos + 1] & 0xff;
    if (first < 0x80) {
      return pos + 2;
    }
    int n = first & 0x7f;
    if (n == 0 || n > 3) {
      throw new IllegalArgumentException("DER length of " + n + " bytes at offset " + pos);
    }
    return pos + 2 + n;
  }

  /** Offset just past the whole element (tag, length, content) at {@code pos}. */
  static int end(byte[] der, int pos) {
    int first = der[pos + 1] & 0xff;
    int len;
    if (first < 0x80) {
      len = first;
    } else {
      int n = first & 0x7f;
      if (n == 0 || n > 3) {
        throw new IllegalArgumentException("DER length of " + n + " bytes at offset " + pos);
      }
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (der[pos + 2 + i] & 0xff);
      }
    }
    int end = contentStart(der, pos) + len;
    if (end > der.length) {
      throw new IllegalArgumentException("DER element at offset " + pos + " runs past the end");
    }
    return end;
  }
}
