package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/** Dataplane (old style): a proxy, its inbounds, outbounds or gateway role. */
public record DataplaneSpec(Networking networking, JsonNode metrics, JsonNode probes)
    implements Spec {

  public record Networking(
      String address,
      String advertisedAddress,
      List<Inbound> inbound,
      List<Outbound> outbound,
      Gateway gateway,
      TransparentProxying transparentProxying,
      Admin admin) {}

  public record Inbound(
      Integer port,
      Integer servicePort,
      String serviceAddress,
      String address,
      String name,
      Map<String, String> tags,
      Health health,
      JsonNode serviceProbe,
      String state) {}

  public record Health(Boolean ready) {}

  public record Outbound(
      Integer port, String address, Map<String, String> tags, JsonNode backendRef) {}

  public record Gateway(GatewayType type, Map<String, String> tags) {}

  public enum GatewayType {
    BUILTIN,
    DELEGATED
  }

  public record TransparentProxying(
      Integer redirectPortInbound,
      Integer redirectPortOutbound,
      List<String> directAccessServices,
      List<String> reachableServices,
      String ipFamilyMode,
      JsonNode reachableBackends) {}

  public record Admin(Integer port) {}
}
