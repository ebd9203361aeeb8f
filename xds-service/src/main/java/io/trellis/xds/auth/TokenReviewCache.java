package io.trellis.xds.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Successful TokenReview results (the authenticated user name), so that a wave of reconnecting proxies (an
 * xds-service restart with thousands of pods) does not send one TokenReview per stream to the API server. Like
 * the API server's own webhook token cache: only successes are kept, for at most the TTL and never beyond the
 * token's own {@code exp}; the pod behind the Dataplane is still read on every stream. Tokens are kept as SHA-256
 * digests only. A TTL of zero disables the cache.
 */
final class TokenReviewCache {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_ENTRIES = 100_000;

  private record Entry(String user, long expiresAtNanos) {}

  private final long ttlNanos;
  private final LongSupplier nanoTime;
  private final LongSupplier epochSeconds;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  TokenReviewCache(Duration ttl, LongSupplier nanoTime, LongSupplier epochSeconds) {
    this.ttlNanos = ttl.toNanos();
    this.nanoTime = nanoTime;
    this.epochSeconds = epochSeconds;
  }

  static TokenReviewCache of(Duration ttl) {
    return new TokenReviewCache(ttl, System::nanoTime, () -> System.currentTimeMillis() / 1000);
  }

  /** The user this token was authenticated as, if a successful review is still fresh. */
  String user(String token) {
    if (ttlNanos <= 0) {
      return null;
    }
    String key = digest(token);
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (nanoTime.getAsLong() - e.expiresAtNanos() >= 0) {
      entries.remove(key, e);
      return null;
    }
    return e.user();
  }

  void remember(String token, String user) {
    if (ttlNanos <= 0) {
      return;
    }
    long now = nanoTime.getAsLong();
    long ttl = ttlNanos;
    Long exp = expiry(token);
    if (exp != null) {
      long left = exp - epochSeconds.getAsLong();
      if (left <= 0) {
        return;
      }
      ttl = Math.min(ttl, Duration.ofSeconds(left).toNanos());
    }
    if (entries.size() >= MAX_ENTRIES) {
      entries.values().removeIf(e -> now - e.expiresAtNanos() >= 0);
      if (entries.size() >= MAX_ENTRIES) {
        entries.clear();
      }
    }
    entries.put(digest(token), new Entry(user, now + ttl));
  }

  int size() {
    return entries.size();
  }

  /** {@code exp} of a JWT's payload, read without verifying (it only ever shortens the caching). */
  static Long expiry(String token) {
    String[] parts = token.split("\\.");
    if (parts.length != 3) {
      return null;
    }
    try {
      JsonNode exp = JSON.readTree(Base64.getUrlDecoder().decode(parts[1])).get("exp");
      return exp != null && exp.canConvertToLong() ? exp.asLong() : null;
    } catch (IllegalArgumentException | java.io.IOException e) {
      return null;
    }
  }

  private static String digest(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
