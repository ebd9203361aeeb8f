package io.trellis.ca.admin;

import io.trellis.ca.pki.CaDurations;
import io.trellis.ca.pki.ServerCertificates;
import io.trellis.ca.tokens.DataplaneTokens;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Admin REST of ca-service: dataplane tokens (Kuma's {@code POST /tokens/dataplane}) and server certificates. */
@Path("/")
@Consumes(MediaType.APPLICATION_JSON)
public class AdminResource {
  @Inject
  DataplaneTokens tokens;

  /** Kuma's request body: {@code {"mesh","name","tags":{"k":["v"]},"type","validFor"}}. */
  public record DataplaneTokenRequest(String mesh, String name, Map<String, List<String>> tags, String type, String validFor) {}

  public record RevokeRequest(String jti) {}

  public record ServerCertificateRequest(String keyType, List<String> hostnames, String validFor) {}

  /** {@code {"type":"server|client","hostnames":[…],"keyType":"rsa|ecdsa","validFor":"8760h"}}. */
  public record TlsCertificateRequest(String type, String keyType, List<String> hostnames, String validFor) {}

  @POST
  @Path("tokens/dataplane")
  @Produces(MediaType.TEXT_PLAIN)
  public String dataplaneToken(DataplaneTokenRequest req) {
    if (req == null) {
      throw new IllegalArgumentException("body: missing (expected: {\"mesh\",\"name\",\"tags\",\"validFor\"})");
    }
    if (req.type() != null && !req.type().isEmpty() && !req.type().equals("dataplane")) {
      throw new IllegalArgumentException("type: \"" + req.type() + "\" (expected: dataplane)");
    }
    Duration validFor = req.validFor() == null || req.validFor().isEmpty()
        ? DataplaneTokens.DEFAULT_VALIDITY : CaDurations.parse("validFor", req.validFor());
    return tokens.issue(req.mesh() == null ? "default" : req.mesh(), req.name(), req.tags(), validFor);
  }

  @POST
  @Path("tokens/dataplane/{mesh}/revocations")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, String> revoke(@PathParam("mesh") String mesh, RevokeRequest req) {
    tokens.revoke(mesh, req == null ? null : req.jti());
    return Map.of("mesh", mesh, "revoked", req.jti());
  }

  @POST
  @Path("tokens/dataplane/{mesh}/signing-key/rotate")
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, String> rotate(@PathParam("mesh") String mesh) {
    return Map.of("mesh", mesh, "kid", tokens.rotate(mesh));
  }

  @POST
  @Path("certificates/server")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, String> serverCertificate(ServerCertificateRequest req) {
    if (req == null) {
      throw new IllegalArgumentException("body: missing (expected: {\"keyType\":\"rsa|ecdsa\",\"hostnames\":[…]})");
    }
    return tlsCertificate(new TlsCertificateRequest("server", req.keyType(), req.hostnames(), req.validFor()));
  }

  /** What {@code kumactl generate tls-certificate} makes: a self-signed certificate and its key, PEM. */
  @POST
  @Path("tls-certificates")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, String> tlsCertificate(TlsCertificateRequest req) {
    if (req == null) {
      throw new IllegalArgumentException(
          "body: missing (expected: {\"type\":\"server|client\",\"keyType\":\"rsa|ecdsa\",\"hostnames\":[…]})");
    }
    Duration validity = req.validFor() == null ? Duration.ofDays(3650) : CaDurations.parse("validFor", req.validFor());
    ServerCertificates.Generated g = ServerCertificates.generate(req.type(), req.keyType(), req.hostnames(), validity);
    return Map.of("certificate", g.certificatePem(), "key", g.keyPem());
  }

  /** Bad input answers 400 with the field and the expected form, never a stack trace. */
  @Provider
  public static class BadRequest implements ExceptionMapper<IllegalArgumentException> {
    @Override
    public Response toResponse(IllegalArgumentException e) {
      return Response.status(400).type(MediaType.APPLICATION_JSON).entity(Map.of("message", String.valueOf(e.getMessage())))
          .build();
    }
  }

}
