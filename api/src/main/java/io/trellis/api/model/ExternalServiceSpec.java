package io.trellis.api.model;

import java.util.Map;

/** ExternalService (old style): a service outside the mesh reachable through the proxies. */
public record ExternalServiceSpec(Map<String, String> tags, Networking networking) implements Spec {

  public record Networking(String address, Tls tls, Boolean disableHostDNSEntry) {}

  public record Tls(
      Boolean enabled,
      DataSource caCert,
      DataSource clientCert,
      DataSource clientKey,
      Boolean allowRenegotiation,
      String serverName) {}
}
