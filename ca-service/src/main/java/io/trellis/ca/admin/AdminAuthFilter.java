package io.trellis.ca.admin;

import io.trellis.ca.auth.Authenticator;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The admin REST endpoints issue credentials, so they are served only to holders of the local
 * service token ({@code Authorization: Bearer …}); {@code /q/*} stays open for probes and scrapes.
 */
public class AdminAuthFilter {
  @Inject
  Authenticator authenticator;

  @ServerRequestFilter
  public Response check(ContainerRequestContext ctx) {
    String path = ctx.getUriInfo().getPath();
    // fail closed: every REST path needs the token except the probes, so a new endpoint is protected by default
    if (path.equals("/q") || path.startsWith("/q/")) {
      return null;
    }
    String header = ctx.getHeaderString("Authorization");
    String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    if (token != null && authenticator.isServiceToken(token)) {
      return null;
    }
    return Response.status(401).type(MediaType.APPLICATION_JSON)
        .entity(Map.of("message", token == null
            ? "authorization: missing (expected: Bearer <service token>)" : "authorization: token not accepted"))
        .build();
  }
}
