package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * MeshExternalService (Kuma 2.9+): a destination outside the mesh with its endpoints and TLS
 * settings.
 */
public record MeshExternalServiceSpec(
    Match match, List<Endpoint> endpoints, Tls tls, JsonNode extension) implements Spec {

  /** {@code type} is {@code HostnameGenerator}; {@code protocol} one of tcp, grpc, http, http2. */
  public record Match(String type, Integer port, String protocol) {}

  public record Endpoint(String address, Integer port) {}

  /** {@code version} ({@code min}/{@code max}) stays JSON. */
  public record Tls(
      Boolean enabled, JsonNode version, Boolean allowRenegotiation, Verification verification) {}

  /** {@code mode} is Secured, SkipSAN, SkipCA or SkipAll. */
  public record Verification(
      String mode,
      String serverName,
      List<SubjectAltName> subjectAltNames,
      DataSource caCert,
      DataSource clientCert,
      DataSource clientKey) {}

  /** {@code type} is Exact or Prefix. */
  public record SubjectAltName(String type, String value) {}
}
