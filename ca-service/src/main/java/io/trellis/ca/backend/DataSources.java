package io.trellis.ca.backend;

import io.trellis.api.model.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Resolves Kuma data sources (exactly one of {@code secret}, {@code file}, {@code inline} base64,
 * {@code inlineString}). Secrets come from the mesh's Secret resources.
 */
public final class DataSources {
  private final BiFunction<String, String, Optional<byte[]>> secrets;

  /** @param secrets (mesh, secret name) → decoded secret bytes */
  public DataSources(BiFunction<String, String, Optional<byte[]>> secrets) {
    this.secrets = secrets;
  }

  public byte[] read(String mesh, String field, DataSource ds) throws IOException {
    if (ds == null) {
      throw new IOException(field + ": missing (expected: one of secret, file, inline, inlineString)");
    }
    int set = (ds.secret() != null ? 1 : 0) + (ds.file() != null ? 1 : 0) + (ds.inline() != null ? 1 : 0)
        + (ds.inlineString() != null ? 1 : 0);
    if (set != 1) {
      throw new IOException(field + ": " + set + " sources set (expected: exactly one of secret, file, inline, inlineString)");
    }
    if (ds.inlineString() != null) {
      return ds.inlineString().getBytes(StandardCharsets.UTF_8);
    }
    if (ds.inline() != null) {
      try {
        return Base64.getMimeDecoder().decode(ds.inline());
      } catch (IllegalArgumentException e) {
        throw new IOException(field + ".inline: not base64 (" + e.getMessage() + ")");
      }
    }
    if (ds.file() != null) {
      try {
        return Files.readAllBytes(Path.of(ds.file()));
      } catch (IOException e) {
        throw new IOException(field + ".file: cannot read \"" + ds.file() + "\" (" + e.getClass().getSimpleName() + ")");
      }
    }
    return secrets.apply(mesh, ds.secret())
        .orElseThrow(() -> new IOException(field + ".secret: Secret \"" + ds.secret() + "\" not found in mesh \"" + mesh + "\""));
  }
}
