package io.trellis.api.model;

/**
 * Kuma datasource: exactly one of a Secret name, a file path, base64 {@code inline} bytes or an
 * {@code inlineString}.
 */
public record DataSource(String secret, String file, String inline, String inlineString) {

  public static DataSource ofSecret(String secret) {
    return new DataSource(secret, null, null, null);
  }

  @Override
  public String toString() {
    // inline values may hold private keys
    return "DataSource[secret="
        + secret
        + ", file="
        + file
        + ", inline="
        + (inline == null ? null : "<redacted>")
        + ", inlineString="
        + (inlineString == null ? null : "<redacted>")
        + "]";
  }
}
