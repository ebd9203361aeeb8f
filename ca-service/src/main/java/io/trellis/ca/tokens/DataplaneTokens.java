package io.trellis.ca.tokens;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.trellis.api.ca.v1.VerificationKey;
import io.trellis.api.ca.v1.VerificationKeys;
import io.trellis.ca.pki.CaNames;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.bouncycastle.jce.spec.ECParameterSpec;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Dataplane tokens: ES256 JWTs ({@code mesh}, {@code name}, {@code tags}, {@code exp}, {@code iat},
 * {@code jti}) for proxies outside Kubernetes. Each mesh has its own signing keys under
 * {@code ${trellis.data-dir}/tokens/<mesh>/}; rotation adds a key that signs from then on while the
 * older ones keep verifying until retired. Revoked token ids are kept in {@code revoked} beside
 * them. xds-service verifies locally with the published public keys and revocation list.
 */
@ApplicationScoped
public class DataplaneTokens {
  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(365);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The verified claims of a token. */
  public record Claims(String mesh, String name, Map<String, List<String>> tags, Instant expiry, String jti) {}

  record Key(String kid, PrivateKey privateKey, PublicKey publicKey) {}

  record MeshKeys(List<Key> keys, Set<String> revoked) {
    Key current() {
      return keys.get(keys.size() - 1);
    }
  }

  private final Path root;
  private final Map<String, MeshKeys> meshes = new ConcurrentHashMap<>();
  private final List<Consumer<String>> watchers = new CopyOnWriteArrayList<>();
  private final AtomicLong version = new AtomicLong(System.currentTimeMillis() * 1000);

  @Inject
  public DataplaneTokens(@ConfigProperty(name = "trellis.data-dir") Path dataDir) {
    this.root = dataDir.resolve("tokens");
  }

  // ------------------------------------------------------------------ issue

  public String issue(String mesh, String name, Map<String, List<String>> tags, Duration validFor) {
    CaNames.require("mesh", mesh);
    CaNames.require("name", name);
    if (validFor.isNegative() || validFor.isZero()) {
      throw new IllegalArgumentException("validFor: " + validFor + " (expected: a positive duration)");
    }
    Key key = keys(mesh, true).current();
    Instant now = Instant.now();
    ObjectNode header = JSON.createObjectNode().put("alg", "ES256").put("typ", "JWT").put("kid", key.kid());
    ObjectNode claims = JSON.createObjectNode()
        .put("mesh", mesh).put("name", name)
        .put("iat", now.getEpochSecond()).put("exp", now.plus(validFor).getEpochSecond())
        .put("jti", UUID.randomUUID().toString());
    ObjectNode tagNode = claims.putObject("tags");
    new TreeMap<>(tags == null ? Map.<String, List<String>>of() : tags)
        .forEach((k, vs) -> vs.forEach(v -> tagNode.withArray(k).add(v)));
    String signingInput = b64(header) + "." + b64(claims);
    try {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initSign(key.privateKey());
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing a dataplane token", e);
    }
  }

  // ----------------------------------------------------------------- verify

  /** The claims of a valid, unexpired, unrevoked token; empty for anything else. */
  public Optional<Claims> verify(String token) {
    try {
      String[] parts = token.split("\\.", -1);
      if (parts.length != 3) {
        return Optional.empty();
      }
      JsonNode header = JSON.readTree(B64D.decode(parts[0]));
      if (!"ES256".equals(header.path("alg").asText())) {
        return Optional.empty(); // no alg=none, no algorithm confusion
      }
      String kid = header.path("kid").asText();
      int slash = kid.indexOf('/');
      if (slash <= 0) {
        return Optional.empty();
      }
      String mesh = kid.substring(0, slash);
      if (!CaNames.valid(mesh)) {
        return Optional.empty();
      }
      MeshKeys mk = keys(mesh, false);
      if (mk == null) {
        return Optional.empty();
      }
      Key key = mk.keys().stream().filter(k -> k.kid().equals(kid)).findFirst().orElse(null);
      if (key == null) {
        return Optional.empty();
      }
      Signature v = Signature.getInstance("SHA256withECDSAinP1363Format");
      v.initVerify(key.publicKey());
      v.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      if (!v.verify(B64D.decode(parts[2]))) {
        return Optional.empty();
      }
      JsonNode c = JSON.readTree(B64D.decode(parts[1]));
      Instant exp = Instant.ofEpochSecond(c.path("exp").asLong(0));
      String jti = c.path("jti").asText("");
      if (!mesh.equals(c.path("mesh").asText()) || !exp.isAfter(Instant.now()) || jti.isEmpty()
          || mk.revoked().contains(jti)) {
        return Optional.empty();
      }
      Map<String, List<String>> tags = new TreeMap<>();
      c.path("tags").fields().forEachRemaining(e -> {
        List<String> vs = new ArrayList<>();
        e.getValue().forEach(x -> vs.add(x.asText()));
        tags.put(e.getKey(), List.copyOf(vs));
      });
      return Optional.of(new Claims(mesh, c.path("name").asText(), tags, exp, jti));
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  // ------------------------------------------------------- rotate / revoke

  /** Adds a new signing key for {@code mesh}; returns its kid. Older keys keep verifying. */
  public synchronized String rotate(String mesh) {
    CaNames.require("mesh", mesh);
    MeshKeys mk = keys(mesh, true);
    Key added = createKey(mesh);
    List<Key> keys = new ArrayList<>(mk.keys());
    keys.add(added);
    meshes.put(mesh, new MeshKeys(List.copyOf(keys), mk.revoked()));
    changed(mesh);
    return added.kid();
  }

  /** Removes a non-current key: tokens it signed stop verifying. */
  public synchronized void retire(String mesh, String kid) {
    MeshKeys mk = keys(mesh, false);
    if (mk == null || mk.keys().stream().noneMatch(k -> k.kid().equals(kid))) {
      throw new IllegalArgumentException("kid: \"" + kid + "\" (expected: a signing key of mesh " + mesh + ")");
    }
    if (mk.current().kid().equals(kid)) {
      throw new IllegalArgumentException("kid: \"" + kid + "\" is the current signing key (expected: rotate first)");
    }
    try {
      Files.deleteIfExists(root.resolve(mesh).resolve(kid.substring(mesh.length() + 1) + ".pem"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    meshes.put(mesh, new MeshKeys(mk.keys().stream().filter(k -> !k.kid().equals(kid)).toList(), mk.revoked()));
    changed(mesh);
  }

  public synchronized void revoke(String mesh, String jti) {
    CaNames.require("mesh", mesh);
    if (jti == null || !jti.matches("[A-Za-z0-9._-]{1,128}")) {
      throw new IllegalArgumentException("jti: " + jti + " (expected: a token id)");
    }
    MeshKeys mk = keys(mesh, true);
    if (mk.revoked().contains(jti)) {
      return;
    }
    try {
      Files.writeString(root.resolve(mesh).resolve("revoked"), jti + "\n", StandardCharsets.US_ASCII,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Set<String> revoked = new LinkedHashSet<>(mk.revoked());
    revoked.add(jti);
    meshes.put(mesh, new MeshKeys(mk.keys(), Set.copyOf(revoked)));
    changed(mesh);
  }

  // ------------------------------------------------------------- publish

  /** Public keys and revoked ids of one mesh, or of every mesh with tokens when {@code mesh} is empty. */
  public VerificationKeys verificationKeys(String mesh) {
    VerificationKeys.Builder b = VerificationKeys.newBuilder().setVersion(version.get());
    List<String> names = new ArrayList<>();
    if (mesh == null || mesh.isEmpty()) {
      if (Files.isDirectory(root)) {
        try (Stream<Path> dirs = Files.list(root)) {
          dirs.map(p -> p.getFileName().toString()).filter(CaNames::valid).sorted().forEach(names::add);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    } else {
      names.add(mesh);
    }
    for (String m : names) {
      MeshKeys mk = keys(m, false);
      if (mk == null) {
        continue;
      }
      for (Key k : mk.keys()) {
        b.addKeys(VerificationKey.newBuilder().setMesh(m).setKid(k.kid()).setAlgorithm("ES256")
            .setPublicKeyPem(Pem.encode("PUBLIC KEY", k.publicKey().getEncoded())));
      }
      mk.revoked().stream().sorted().forEach(b::addRevokedTokenIds);
    }
    return b.build();
  }

  /** Called with the mesh whose keys or revocations changed. */
  public Runnable watch(Consumer<String> watcher) {
    watchers.add(watcher);
    return () -> watchers.remove(watcher);
  }

  private void changed(String mesh) {
    version.incrementAndGet();
    watchers.forEach(w -> w.accept(mesh));
  }

  // ------------------------------------------------------------- storage

  private MeshKeys keys(String mesh, boolean create) {
    MeshKeys mk = meshes.get(mesh);
    if (mk != null) {
      return mk;
    }
    synchronized (this) {
      mk = meshes.get(mesh);
      if (mk != null) {
        return mk;
      }
      mk = readFromDisk(mesh);
      if (mk == null && create) {
        mk = new MeshKeys(List.of(createKey(mesh)), Set.of());
        meshes.put(mesh, mk);
        changed(mesh);
        return mk;
      }
      if (mk != null) {
        meshes.put(mesh, mk);
      }
      return mk;
    }
  }

  private MeshKeys readFromDisk(String mesh) {
    Path dir = root.resolve(mesh);
    if (!Files.isDirectory(dir)) {
      return null;
    }
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> pems = files.filter(p -> p.getFileName().toString().endsWith(".pem")).sorted().toList();
      if (pems.isEmpty()) {
        return null;
      }
      List<Key> keys = new ArrayList<>();
      for (Path p : pems) {
        PrivateKey priv = Pem.readPrivateKey(Files.readString(p, StandardCharsets.US_ASCII));
        String stem = p.getFileName().toString().replaceFirst("\\.pem$", "");
        keys.add(new Key(mesh + "/" + stem, priv, publicOf(priv)));
      }
      Path revokedFile = dir.resolve("revoked");
      Set<String> revoked = Files.exists(revokedFile)
          ? Set.copyOf(Files.readAllLines(revokedFile).stream().map(String::trim).filter(s -> !s.isEmpty()).toList())
          : Set.of();
      return new MeshKeys(List.copyOf(keys), revoked);
    } catch (IOException e) {
      throw new UncheckedIOException("dataplane token keys of mesh " + mesh, e);
    }
  }

  private Key createKey(String mesh) {
    // File names sort by creation time, so the last one is the current signing key after a restart.
    String stem = String.format("%013d-%s", System.currentTimeMillis(), HexFormat.of().formatHex(
        java.nio.ByteBuffer.allocate(4).putInt(new java.security.SecureRandom().nextInt()).array()));
    KeyPair pair = Crypto.ecKeyPair("secp256r1");
    Path dir = root.resolve(mesh);
    try {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, stem, ".tmp");
      try {
        try {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
          // not POSIX
        }
        Files.writeString(tmp, Pem.privateKey(pair.getPrivate()), StandardCharsets.US_ASCII, StandardOpenOption.SYNC);
        Files.createLink(dir.resolve(stem + ".pem"), tmp);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (FileAlreadyExistsException e) {
      throw new IllegalStateException("token key name collision, retry", e);
    } catch (IOException e) {
      throw new UncheckedIOException("creating a token signing key for mesh " + mesh, e);
    }
    return new Key(mesh + "/" + stem, pair.getPrivate(), pair.getPublic());
  }

  private static PublicKey publicOf(PrivateKey key) throws IOException {
    try {
      org.bouncycastle.jce.interfaces.ECPrivateKey bc = (org.bouncycastle.jce.interfaces.ECPrivateKey) key;
      ECParameterSpec params = bc.getParameters();
      org.bouncycastle.math.ec.ECPoint q = params.getG().multiply(bc.getD()).normalize();
      KeyFactory kf = KeyFactory.getInstance("EC", Crypto.BC);
      return kf.generatePublic(new org.bouncycastle.jce.spec.ECPublicKeySpec(q, params));
    } catch (ClassCastException | GeneralSecurityException e) {
      throw new IOException("token key is not a BouncyCastle EC key", e);
    }
  }

  private static String b64(JsonNode node) {
    try {
      return B64.encodeToString(JSON.writeValueAsBytes(node));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
