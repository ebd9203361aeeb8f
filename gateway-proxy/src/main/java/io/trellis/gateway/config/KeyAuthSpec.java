package io.trellis.gateway.config;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
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
    List<Consumer> consumers) {

  public record Consumer(String username, byte[] keySha256) {}

  /** Outcome of {@link #authenticate}; {@code username} is set only when the key is valid. */
  public record Result(boolean keyFound, String username) {
    public boolean ok() {
      return username != null;
    }
  }

  public Result authenticate(HttpRequest req) {
    String key = null;
    if (inHeader) {
      for (String n : keyNames) {
        key = req.headers().get(n);
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
    if (key == null || key.isEmpty()) {
      return new Result(false, null);
    }
    byte[] digest = sha256(key);
    // Every consumer is compared, in constant time, so neither timing nor position leaks which one matched.
    String match = null;
    for (Consumer c : consumers) {
      if (MessageDigest.isEqual(digest, c.keySha256()) && match == null) {
        match = c.username();
      }
    }
    return new Result(true, match);
  }

  /** Removes the key from headers and query string (hide_credentials). */
  public void strip(HttpRequest req) {
    for (String n : keyNames) {
      req.headers().remove(n);
    }
    if (inQuery && req.uri().indexOf('?') >= 0) {
      QueryStringDecoder d = new QueryStringDecoder(req.uri());
      QueryStringEncoder e = new QueryStringEncoder(d.rawPath());
      for (Map.Entry<String, List<String>> p : d.parameters().entrySet()) {
        if (!keyNames.contains(p.getKey())) {
          for (String v : p.getValue()) {
            e.addParam(p.getKey(), v);
          }
        }
      }
      req.setUri(e.toString());
    }
  }

  public static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
