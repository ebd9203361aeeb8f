package io.trellis.gateway.config;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;

/**
 * Kong-style key-auth ({@code trellis.key_auth}): the key comes from a header or query parameter named in
 * {@code keyNames}; consumers are stored as SHA-256 digests only.
 */
public record KeyAuthSpec(List<String> keyNames, boolean inHeader, boolean inQuery, boolean hideCredentials,
    List<Consumer> consumers, Map<java.nio.ByteBuffer, Consumer> byDigest) {

  public KeyAuthSpec(List<String> keyNames, boolean inHeader, boolean inQuery, boolean hideCredentials,
      List<Consumer> consumers) {
    this(keyNames, inHeader, inQuery, hideCredentials, consumers, index(consumers));
  }

  private static Map<java.nio.ByteBuffer, Consumer> index(List<Consumer> consumers) {
    Map<java.nio.ByteBuffer, Consumer> m = new java.util.HashMap<>();
    for (Consumer c : consumers) {
      m.putIfAbsent(java.nio.ByteBuffer.wrap(c.keySha256()), c);
    }
    return Map.copyOf(m);
  }

  /** Per event loop: a FastThreadLocal is an array index on Netty threads (a ThreadLocal was a hash probe per request). */
  private static final FastThreadLocal<MessageDigest> SHA256 = new FastThreadLocal<>() {
    @Override
    protected MessageDigest initialValue() throws NoSuchAlgorithmException {
      return MessageDigest.getInstance("SHA-256");
    }
  };

  public record Consumer(String username, byte[] keySha256) {}

  /** Outcome of {@link #authenticate}; {@code username} is set only when the key is valid. */
  public record Result(boolean keyFound, String username) {
    public boolean ok() {
      return username != null;
    }
  }

  public Result authenticate(HttpRequest req) {
    return authenticate(RequestView.of(req));
  }

  public Result authenticate(RequestView req) {
    return check(presentedKey(req));
  }

  /** The key the request presents (first configured header, then query parameter), or null. */
  public String presentedKey(RequestView req) {
    String key = null;
    if (inHeader) {
      for (String n : keyNames) {
        key = req.header(n);
        if (key != null) {
          break;
        }
      }
    }
    if (key == null && inQuery && req.uri().indexOf('?') >= 0) {
      Map<String, List<String>> params = new QueryStringDecoder(req.uri()).parameters();
      for (String n : keyNames) {
        List<String> v = params.get(n);
        if (v != null && !v.isEmpty()) {
          key = v.get(0);
          break;
        }
      }
    }
    return key;
  }

  /** The outcome for a presented key (null or empty: none found). */
  public Result check(String key) {
    if (key == null || key.isEmpty()) {
      return new Result(false, null);
    }
    MessageDigest md = SHA256.get();
    byte[] digest = md.digest(key.getBytes(StandardCharsets.UTF_8));
    // The lookup is keyed by the SHA-256 of the presented key, so its timing can only reveal bits of a
    // digest, never of a stored key; the final comparison is constant time (MessageDigest.isEqual).
    Consumer c = byDigest.get(java.nio.ByteBuffer.wrap(digest));
    boolean ok = c != null && MessageDigest.isEqual(digest, c.keySha256());
    return new Result(true, ok ? c.username() : null);
  }

  /** Removes the key from headers and query string (hide_credentials). */
  public void strip(HttpRequest req) {
    for (String n : keyNames) {
      req.headers().remove(n);
    }
    req.setUri(stripQuery(req.uri()));
  }

  /** {@code uri} without the key's query parameters (hide_credentials); the same string if there is nothing to strip. */
  public String stripQuery(String uri) {
    if (!inQuery || uri.indexOf('?') < 0) {
      return uri;
    }
    QueryStringDecoder d = new QueryStringDecoder(uri);
    QueryStringEncoder e = new QueryStringEncoder(d.rawPath());
    for (Map.Entry<String, List<String>> p : d.parameters().entrySet()) {
      if (!keyNames.contains(p.getKey())) {
        for (String v : p.getValue()) {
          e.addParam(p.getKey(), v);
        }
      }
    }
    return e.toString();
  }

  public static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
