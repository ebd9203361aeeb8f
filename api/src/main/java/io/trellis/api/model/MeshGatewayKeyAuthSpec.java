package io.trellis.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * MeshGatewayKeyAuth (Trellis addition, no Kuma equivalent): API-key authentication on a builtin
 * gateway, with Kong {@code key-auth} semantics.
 *
 * <pre>{@code
 * type: MeshGatewayKeyAuth
 * mesh: default
 * name: edge-keys
 * spec:
 *   targetRef:            # MeshGateway (optionally sectionName = a listener) or MeshHTTPRoute
 *     kind: MeshGateway
 *     name: edge-gateway
 *   default:
 *     keyNames: [apikey]  # default [apikey]: header / query parameter / body field names
 *     keyInHeader: true   # default true
 *     keyInQuery: true    # default true
 *     keyInBody: false    # default false
 *     hideCredentials: false  # default false: strip the key before proxying
 *     anonymous: guest    # optional: consumer used when no key is given (otherwise 401)
 *   consumers:
 *     - username: alice
 *       keys:
 *         - secret: alice-key          # a Secret whose data is the key
 *         - sha256: 9f86d0...          # or the key's SHA-256, 64 lowercase hex digits
 * }</pre>
 *
 * <p>Keys are never stored in plain text in this resource: a key is a Secret reference or a SHA-256
 * digest.
 */
public record MeshGatewayKeyAuthSpec(
    TargetRef targetRef, @JsonProperty("default") Conf conf, List<Consumer> consumers)
    implements PolicySpec {

  public static final List<String> DEFAULT_KEY_NAMES = List.of("apikey");

  public record Conf(
      List<String> keyNames,
      Boolean keyInHeader,
      Boolean keyInQuery,
      Boolean keyInBody,
      Boolean hideCredentials,
      String anonymous) {

    public List<String> effectiveKeyNames() {
      return keyNames == null || keyNames.isEmpty() ? DEFAULT_KEY_NAMES : keyNames;
    }

    public boolean effectiveKeyInHeader() {
      return keyInHeader == null || keyInHeader;
    }

    public boolean effectiveKeyInQuery() {
      return keyInQuery == null || keyInQuery;
    }

    public boolean effectiveKeyInBody() {
      return keyInBody != null && keyInBody;
    }

    public boolean effectiveHideCredentials() {
      return hideCredentials != null && hideCredentials;
    }
  }

  public record Consumer(String username, List<Key> keys) {}

  /**
   * Exactly one of {@code secret} (name of a Secret holding the key) or {@code sha256} (hex digest
   * of the key).
   */
  public record Key(String secret, String sha256) {

    public static Key ofPlain(String plainKey) {
      return new Key(null, sha256Hex(plainKey));
    }
  }

  /** The lowercase hex SHA-256 of a key's UTF-8 bytes, as stored in {@link Key#sha256()}. */
  public static String sha256Hex(String plainKey) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(plainKey.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
