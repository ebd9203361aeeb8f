package io.trellis.api.model;

import java.util.Map;

/** A route backend: a targetRef-like reference plus {@code port} and {@code weight}. */
public record BackendRef(
    TargetRef.Kind kind,
    String name,
    String namespace,
    Map<String, String> tags,
    Map<String, String> labels,
    Integer port,
    Integer weight) {

  public static BackendRef meshService(String name) {
    return new BackendRef(TargetRef.Kind.MeshService, name, null, null, null, null, null);
  }
}
