package io.trellis.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** MeshAccessLog: where and how proxies write access logs. */
public record MeshAccessLogSpec(
    TargetRef targetRef,
    List<PolicyItem<Conf>> from,
    List<PolicyItem<Conf>> to,
    List<PolicyRule<Conf>> rules)
    implements PolicySpec {

  public record Conf(List<Backend> backends) {}

  public record Backend(FileBackend file, TcpBackend tcp, OpenTelemetryBackend openTelemetry) {}

  public record FileBackend(String path, Format format) {}

  public record TcpBackend(String address, Format format) {}

  public record OpenTelemetryBackend(String endpoint, JsonNode body, List<KeyValue> attributes) {}

  public record Format(
      FormatType type, String plain, List<KeyValue> json, Boolean omitEmptyValues) {}

  public enum FormatType {
    Plain,
    Json
  }

  public record KeyValue(String key, String value) {}
}
