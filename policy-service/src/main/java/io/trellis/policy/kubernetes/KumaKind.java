package io.trellis.policy.kubernetes;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.trellis.api.model.ResourceType;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How each Kuma kind is stored on Kubernetes: group {@code kuma.io/v1alpha1}, plural, short names and scope as
 * Kuma's own CRDs. Mesh and the old-style mesh-wide kinds (MeshGateway, MeshGatewayRoute, ExternalService) are
 * cluster-scoped in Kuma; Dataplanes and every targetRef policy are namespaced. Kuma keeps mesh Secrets in core
 * {@code v1} Secrets of type {@code system.kuma.io/secret} in the system namespace, not in a CRD.
 */
public enum KumaKind {
  MESH(ResourceType.MESH, false, List.of()),
  DATAPLANE(ResourceType.DATAPLANE, true, List.of("dp")),
  MESH_TRAFFIC_PERMISSION(ResourceType.MESH_TRAFFIC_PERMISSION, true, List.of("mtp")),
  MESH_GATEWAY(ResourceType.MESH_GATEWAY, false, List.of()),
  MESH_GATEWAY_ROUTE(ResourceType.MESH_GATEWAY_ROUTE, false, List.of()),
  MESH_HTTP_ROUTE(ResourceType.MESH_HTTP_ROUTE, true, List.of("mhttpr")),
  MESH_TCP_ROUTE(ResourceType.MESH_TCP_ROUTE, true, List.of("mtcpr")),
  MESH_TIMEOUT(ResourceType.MESH_TIMEOUT, true, List.of("mt")),
  MESH_RETRY(ResourceType.MESH_RETRY, true, List.of("mr")),
  MESH_CIRCUIT_BREAKER(ResourceType.MESH_CIRCUIT_BREAKER, true, List.of("mcb")),
  MESH_HEALTH_CHECK(ResourceType.MESH_HEALTH_CHECK, true, List.of("mhc")),
  MESH_RATE_LIMIT(ResourceType.MESH_RATE_LIMIT, true, List.of("mrl")),
  MESH_FAULT_INJECTION(ResourceType.MESH_FAULT_INJECTION, true, List.of("mfi")),
  MESH_ACCESS_LOG(ResourceType.MESH_ACCESS_LOG, true, List.of("mal")),
  EXTERNAL_SERVICE(ResourceType.EXTERNAL_SERVICE, false, List.of()),
  MESH_EXTERNAL_SERVICE(ResourceType.MESH_EXTERNAL_SERVICE, true, List.of("mes")),
  SECRET(ResourceType.SECRET, true, List.of()),
  MESH_GATEWAY_KEY_AUTH(ResourceType.MESH_GATEWAY_KEY_AUTH, true, List.of("mgka"));

  public static final String GROUP = "kuma.io";
  public static final String VERSION = "v1alpha1";

  private static final Map<ResourceType, KumaKind> BY_TYPE =
      Arrays.stream(values()).collect(Collectors.toMap(k -> k.type, Function.identity()));

  private final ResourceType type;
  private final boolean namespaced;
  private final List<String> shortNames;

  KumaKind(ResourceType type, boolean namespaced, List<String> shortNames) {
    this.type = type;
    this.namespaced = namespaced;
    this.shortNames = shortNames;
  }

  public static KumaKind of(ResourceType type) {
    KumaKind kind = BY_TYPE.get(type);
    if (kind == null) {
      throw new IllegalStateException("no Kubernetes mapping for " + type); // a new ResourceType needs a row here
    }
    return kind;
  }

  public ResourceType type() {
    return type;
  }

  public boolean namespaced() {
    return namespaced;
  }

  /** Whether this kind is a CRD of ours (everything but Secret). */
  public boolean isCustomResource() {
    return this != SECRET;
  }

  /** Kuma's CRD plural: the REST path without dashes ({@code external-services} → {@code externalservices}). */
  public String plural() {
    return type.path().replace("-", "");
  }

  public String singular() {
    return type.kumaName().toLowerCase(Locale.ROOT);
  }

  public List<String> shortNames() {
    return shortNames;
  }

  public String crdName() {
    return plural() + "." + GROUP;
  }

  /** What the fabric8 client needs to read and write this kind as {@code GenericKubernetesResource}. */
  public ResourceDefinitionContext context() {
    return new ResourceDefinitionContext.Builder()
        .withGroup(this == SECRET ? "" : GROUP)
        .withVersion(this == SECRET ? "v1" : VERSION)
        .withKind(type.kumaName())
        .withPlural(plural())
        .withNamespaced(namespaced)
        .build();
  }
}
