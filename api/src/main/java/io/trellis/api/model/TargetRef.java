package io.trellis.api.model;

import java.util.List;
import java.util.Map;

/**
 * Kuma 2.x targetRef: which proxies (top level), clients ({@code from}) or destinations ({@code to}) a
 * policy entry is about.
 */
public record TargetRef(
    Kind kind,
    String name,
    String namespace,
    Map<String, String> tags,
    Map<String, String> labels,
    String sectionName,
    String mesh,
    List<ProxyType> proxyTypes) {

  /** Kinds, in Kuma's order from least to most specific. Constants are spelled as on the wire. */
  public enum Kind {
    Mesh,
    MeshSubset,
    MeshGateway,
    MeshService,
    MeshServiceSubset,
    MeshExternalService,
    MeshMultiZoneService,
    Dataplane,
    MeshHTTPRoute
  }

  public enum ProxyType {
    Sidecar,
    Gateway
  }

  public static TargetRef ofMesh() {
    return new TargetRef(Kind.Mesh, null, null, null, null, null, null, null);
  }

  public static TargetRef ofMeshSubset(Map<String, String> tags) {
    return new TargetRef(Kind.MeshSubset, null, null, tags, null, null, null, null);
  }

  public static TargetRef ofMeshService(String name) {
    return new TargetRef(Kind.MeshService, name, null, null, null, null, null, null);
  }

  public static TargetRef ofMeshGateway(String name) {
    return new TargetRef(Kind.MeshGateway, name, null, null, null, null, null, null);
  }

  public static TargetRef of(Kind kind, String name) {
    return new TargetRef(kind, name, null, null, null, null, null, null);
  }
}
