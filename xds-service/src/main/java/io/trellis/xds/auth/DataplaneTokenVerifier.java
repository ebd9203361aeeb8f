package io.trellis.xds.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.trellis.api.ca.v1.VerificationKey;
import io.trellis.api.ca.v1.VerificationKeys;
import io.trellis.xds.ProxyRef;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Verifies dataplane tokens: compact JWS (ES256, RS256 or EdDSA) signed by ca-service, with claims
 * {@code mesh}, {@code name}, {@code tags}, {@code jti}, {@code exp} (Kuma's {@code Mesh}/{@code Name}/{@code Tags}
 * spelling accepted too). Keys and revocations come from {@code WatchVerificationKeys}. Fails closed: no keys
 * yet, unknown kid, bad signature, expired or revoked all end in UNAUTHENTICATED; a valid token for another
 * Dataplane in PERMISSION_DENIED.
 */
public final class DataplaneTokenVerifier {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a verified token says about its holder. */
  public record Claims(String mesh, String name, Map<String, String> tags, String jti) {}

  private record Key(String mesh, PublicKey key, String algorithm) {}

  private volatile Map<String, Key> keys = Map.of();
  private volatile Set<String> revoked = Set.of();
  private volatile boolean synced;
  private final Clock clock;

  public DataplaneTokenVerifier(Clock clock) {
    this.clock = clock;
  }

  /** Replaces keys and revocations with the latest state from ca-service. */
  public void update(VerificationKeys update) {
    Map<String, Key> next = new HashMap<>();
    for (VerificationKey k : update.getKeysList()) {
      try {
        next.put(k.getKid(), new Key(k.getMesh(), publicKey(k), k.getAlgorithm()));
      } catch (Exception e) {
        // A key we cannot read verifies nothing: tokens signed with it are refused.
        org.jboss.logging.Logger.getLogger(DataplaneTokenVerifier.class)
            .warnf("verification key %s of mesh %s unreadable: %s", k.getKid(), k.getMesh(), e.getMessage());
      }
    }
    keys = Map.copyOf(next);
    revoked = Set.copyOf(update.getRevokedTokenIdsList());
    synced = true;
  }

  public boolean synced() {
    return synced;
  }

  /** Verifies {@code token} and that it names {@code proxy}; returns the claims. */
  public Claims verify(String token, ProxyRef proxy) {
    if (token == null || token.isBlank()) {
      throw unauthenticated("dataplane token: missing (expected: authorization: Bearer <dataplane token> "
          + "or node metadata dataplane.token)");
    }
    String[] parts = token.trim().split("\\.");
    if (parts.length != 3) {
      throw unauthenticated("dataplane token: malformed (expected: a JWT header.payload.signature)");
    }
    JsonNode header;
    JsonNode body;
    byte[] signature;
    try {
      header = JSON.readTree(Base64.getUrlDecoder().decode(parts[0]));
      body = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
      signature = Base64.getUrlDecoder().decode(parts[2]);
    } catch (Exception e) {
      throw unauthenticated("dataplane token: malformed (expected: base64url JSON header and claims)");
    }
    Key key = keys.get(header.path("kid").asText());
    if (key == null) {
      throw unauthenticated("dataplane token: unknown signing key (kid " + header.path("kid").asText() + ")");
    }
    String alg = header.path("alg").asText();
    if (!alg.equals(key.algorithm())) {
      throw unauthenticated("dataplane token: alg " + alg + " (expected: " + key.algorithm() + ")");
    }
    try {
      Signature verifier = Signature.getInstance(jcaAlgorithm(alg));
      verifier.initVerify(key.key());
      verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      if (!verifier.verify(signature)) {
        throw unauthenticated("dataplane token: bad signature");
      }
    } catch (StatusRuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw unauthenticated("dataplane token: bad signature");
    }
    long exp = body.path("exp").asLong(0);
    if (exp != 0 && clock.instant().getEpochSecond() >= exp) {
      throw unauthenticated("dataplane token: expired");
    }
    String jti = body.path("jti").asText("");
    if (!jti.isEmpty() && revoked.contains(jti)) {
      throw unauthenticated("dataplane token: revoked");
    }
    String mesh = claim(body, "mesh", "Mesh");
    String name = claim(body, "name", "Name");
    Map<String, String> tags = new HashMap<>();
    JsonNode t = body.has("tags") ? body.get("tags") : body.path("Tags");
    t.fields().forEachRemaining(e -> tags.put(e.getKey(), e.getValue().isArray() && e.getValue().size() > 0
        ? e.getValue().get(0).asText() : e.getValue().asText()));
    if (!key.mesh().isEmpty() && !key.mesh().equals(mesh)) {
      throw unauthenticated("dataplane token: signed by mesh " + key.mesh() + "'s key but claims mesh " + mesh);
    }
    if (!proxy.mesh().equals(mesh) || (!name.isEmpty() && !proxy.name().equals(name))) {
      throw Status.PERMISSION_DENIED.withDescription("node.id: " + proxy.nodeId()
          + " (expected: the Dataplane the token was issued for, " + mesh + "." + (name.isEmpty() ? "*" : name) + ")")
          .asRuntimeException();
    }
    return new Claims(mesh, name, Map.copyOf(tags), jti);
  }

  private static String claim(JsonNode body, String a, String b) {
    return body.has(a) ? body.get(a).asText() : body.path(b).asText("");
  }

  static String jcaAlgorithm(String alg) {
    return switch (alg) {
      case "ES256" -> "SHA256withECDSAinP1363Format";
      case "ES384" -> "SHA384withECDSAinP1363Format";
      case "RS256" -> "SHA256withRSA";
      case "EdDSA" -> "Ed25519";
      default -> throw unauthenticated("dataplane token: alg " + alg + " (expected: ES256, ES384, RS256 or EdDSA)");
    };
  }

  private static PublicKey publicKey(VerificationKey k) throws Exception {
    String b64 = k.getPublicKeyPem().replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    X509EncodedKeySpec spec = new X509EncodedKeySpec(Base64.getDecoder().decode(b64));
    String family = switch (k.getAlgorithm()) {
      case "ES256", "ES384" -> "EC";
      case "RS256" -> "RSA";
      case "EdDSA" -> "Ed25519";
      default -> throw new IllegalArgumentException("algorithm: " + k.getAlgorithm());
    };
    return KeyFactory.getInstance(family).generatePublic(spec);
  }

  private static StatusRuntimeException unauthenticated(String message) {
    return Status.UNAUTHENTICATED.withDescription(message).asRuntimeException();
  }
}
