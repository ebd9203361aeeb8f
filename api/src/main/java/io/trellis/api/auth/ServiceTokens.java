package io.trellis.api.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The service-to-service bearer token on one machine (DESIGN.md section 2): a random token created
 * at first start in the data directory and read by the other local services. Whichever service
 * starts first creates it; creation is atomic (hard link of a fully written temp file), so two
 * services starting together agree on one token. On Kubernetes, projected ServiceAccount tokens are
 * used instead.
 */
public final class ServiceTokens {
  /** File name of the token inside the data directory. */
  public static final String FILE_NAME = "service-token";

  private ServiceTokens() {}

  /** Reads the token from {@code dataDir}, creating it (mode 0600) when absent. */
  public static String loadOrCreate(Path dataDir) throws IOException {
    Path target = dataDir.resolve(FILE_NAME);
    if (Files.exists(target)) {
      return read(target);
    }
    Files.createDirectories(dataDir);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Path tmp = Files.createTempFile(dataDir, FILE_NAME, ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // not a POSIX file system: the data directory's own permissions protect it
      }
      Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
      try {
        Files.createLink(target, tmp);
        return token;
      } catch (FileAlreadyExistsException raced) {
        return read(target);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static String read(Path file) throws IOException {
    String token = Files.readString(file, StandardCharsets.US_ASCII).trim();
    if (token.length() < 32) {
      throw new IOException(file + ": service token too short (expected: at least 32 characters)");
    }
    return token;
  }

  /** Constant-time comparison of a presented token with the expected one. */
  public static boolean matches(String expected, String presented) {
    if (expected == null || presented == null) {
      return false;
    }
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
  }
}
