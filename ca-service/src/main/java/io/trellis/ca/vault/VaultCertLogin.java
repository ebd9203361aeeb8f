package io.trellis.ca.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.vault.client.VaultException;
import io.quarkus.vault.client.auth.VaultAuthRequest;
import io.quarkus.vault.client.auth.VaultToken;
import io.quarkus.vault.client.auth.VaultTokenProvider;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CompletionStage;

/**
 * Vault's TLS certificate auth ({@code POST /v1/auth/cert/login}), which quarkus-vault's client has
 * no built-in provider for. The client certificate is presented by the TLS handshake of the same
 * {@link HttpClient} the backend uses.
 */
final class VaultCertLogin implements VaultTokenProvider {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final URI address;
  private final Duration timeout;

  VaultCertLogin(HttpClient http, URI address, Duration timeout) {
    this.http = http;
    this.address = address;
    this.timeout = timeout;
  }

  @Override
  public CompletionStage<VaultToken> apply(VaultAuthRequest request) {
    HttpRequest login = HttpRequest.newBuilder(address.resolve("/v1/auth/cert/login"))
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}"))
        .build();
    return http.sendAsync(login, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      try {
        JsonNode body = JSON.readTree(r.body());
        if (r.statusCode() != 200) {
          throw new VaultException("cert login: HTTP " + r.statusCode() + " " + body.path("errors"));
        }
        JsonNode auth = body.path("auth");
        String token = auth.path("client_token").asText("");
        if (token.isEmpty()) {
          throw new VaultException("cert login: no auth.client_token in the response");
        }
        return VaultToken.from(token, auth.path("renewable").asBoolean(false),
            Duration.ofSeconds(auth.path("lease_duration").asLong(0)), null, InstantSource.system());
      } catch (java.io.IOException e) {
        throw new VaultException("cert login: malformed response", e);
      }
    });
  }
}
