package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * MeshGateway (old style): listeners of a builtin gateway, bound to gateway Dataplanes by {@code
 * selectors}.
 */
public record MeshGatewaySpec(List<Selector> selectors, Map<String, String> tags, Conf conf)
    implements Spec {

  public record Conf(List<Listener> listeners) {}

  public record Listener(
      Integer port,
      Protocol protocol,
      String hostname,
      Map<String, String> tags,
      Tls tls,
      Boolean crossMesh,
      Resources resources) {}

  public enum Protocol {
    HTTP,
    HTTPS,
    TCP,
    TLS
  }

  public record Tls(TlsMode mode, List<DataSource> certificates, JsonNode options) {}

  public enum TlsMode {
    TERMINATE,
    PASSTHROUGH
  }

  public record Resources(Integer connectionLimit) {}
}
