package io.trellis.ca.auth;

import io.trellis.api.auth.ServiceTokens;
import io.trellis.ca.tokens.DataplaneTokens;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Maps a presented bearer token to a {@link Caller}, or null. Never throws for a bad token. */
@ApplicationScoped
public class Authenticator {
  public static final String LOCAL_SERVICE = "local-service";

  private final String serviceToken;

  @Inject
  DataplaneTokens dataplaneTokens;

  @Inject
  public Authenticator(@ConfigProperty(name = "trellis.data-dir") Path dataDir) {
    try {
      this.serviceToken = ServiceTokens.loadOrCreate(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("service token in " + dataDir, e);
    }
  }

  public Caller authenticate(String token) {
    if (token == null) {
      return null;
    }
    if (ServiceTokens.matches(serviceToken, token)) {
      return Caller.service(LOCAL_SERVICE);
    }
    if (token.chars().filter(ch -> ch == '.').count() == 2) {
      return dataplaneTokens.verify(token).map(c -> Caller.dataplane(c.mesh(), c.name(), c.tags())).orElse(null);
    }
    return null;
  }

  /** Whether {@code token} is the local service token (admin REST). */
  public boolean isServiceToken(String token) {
    return ServiceTokens.matches(serviceToken, token);
  }
}
