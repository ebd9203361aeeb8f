package io.trellis.api.model;

import java.util.List;
import java.util.Map;

/**
 * Kuma 2.x targetRef: which proxies (top level), clients ({@code from}) or destinations ({@code
 * to}) a policy entry is about.
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

  /**
   * Kinds, spelled as on the wire. Use {@link #specificity()} (not {@code ordinal()}) to order
   * policies: Mesh &lt; MeshSubset &lt; MeshGateway &lt; MeshService (and MeshExternalService,
   * MeshMultiZoneService) &lt; MeshServiceSubset &lt; Dataplane &lt; MeshHTTPRoute, as in Kuma 2.x.
   */
  public enum Kind {
    Mesh(0),
    MeshSubset(1),
    MeshGateway(2),
    MeshService(3),
    MeshServiceSubset(4),
    MeshExternalService(3),
    MeshMultiZoneService(3),
    Dataplane(5),
    MeshHTTPRoute(6);

    private final int specificity;

    Kind(int specificity) {
      this.specificity = specificity;
    }

    /**
     * Higher is more specific; kinds of equal specificity tie (then Kuma orders by origin, role and
     * name).
     */
    public int specificity() {
      return specificity;
    }
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
