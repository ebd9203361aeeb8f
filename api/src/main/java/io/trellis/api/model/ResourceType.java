package io.trellis.api.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every resource kind Trellis serves, with its Kuma 2.x name, its REST collection path and its
 * shape.
 *
 * <p>"Old-style" kinds ({@link #isPolicy()} false) carry their fields at the top level of the
 * universal form ({@code type: Mesh\nname: default\nmtls: ...}); new-style policies carry a {@code
 * spec} with {@code targetRef}/{@code from}/{@code to}.
 */
public enum ResourceType {
  MESH("Mesh", "meshes", false, false, MeshSpec.class),
  DATAPLANE("Dataplane", "dataplanes", true, false, DataplaneSpec.class),
  MESH_TRAFFIC_PERMISSION(
      "MeshTrafficPermission",
      "meshtrafficpermissions",
      true,
      true,
      MeshTrafficPermissionSpec.class),
  MESH_GATEWAY("MeshGateway", "meshgateways", true, false, MeshGatewaySpec.class),
  MESH_GATEWAY_ROUTE(
      "MeshGatewayRoute", "meshgatewayroutes", true, false, MeshGatewayRouteSpec.class),
  MESH_HTTP_ROUTE("MeshHTTPRoute", "meshhttproutes", true, true, MeshHttpRouteSpec.class),
  MESH_TCP_ROUTE("MeshTCPRoute", "meshtcproutes", true, true, MeshTcpRouteSpec.class),
  MESH_TIMEOUT("MeshTimeout", "meshtimeouts", true, true, MeshTimeoutSpec.class),
  MESH_RETRY("MeshRetry", "meshretries", true, true, MeshRetrySpec.class),
  MESH_CIRCUIT_BREAKER(
      "MeshCircuitBreaker", "meshcircuitbreakers", true, true, MeshCircuitBreakerSpec.class),
  MESH_HEALTH_CHECK("MeshHealthCheck", "meshhealthchecks", true, true, MeshHealthCheckSpec.class),
  MESH_RATE_LIMIT("MeshRateLimit", "meshratelimits", true, true, MeshRateLimitSpec.class),
  MESH_FAULT_INJECTION(
      "MeshFaultInjection", "meshfaultinjections", true, true, MeshFaultInjectionSpec.class),
  MESH_ACCESS_LOG("MeshAccessLog", "meshaccesslogs", true, true, MeshAccessLogSpec.class),
  EXTERNAL_SERVICE("ExternalService", "external-services", true, false, ExternalServiceSpec.class),
  /**
   * Kuma 2.9+ replacement of ExternalService: a {@code spec}-wrapped resource, but not a targetRef
   * policy.
   */
  MESH_EXTERNAL_SERVICE(
      "MeshExternalService",
      "meshexternalservices",
      true,
      false,
      true,
      MeshExternalServiceSpec.class),
  SECRET("Secret", "secrets", true, false, SecretSpec.class),
  /**
   * Trellis addition: Kong-style key-auth for builtin gateways, see {@link MeshGatewayKeyAuthSpec}.
   */
  MESH_GATEWAY_KEY_AUTH(
      "MeshGatewayKeyAuth", "meshgatewaykeyauths", true, true, MeshGatewayKeyAuthSpec.class);

  private final String kumaName;
  private final String path;
  private final boolean meshScoped;
  private final boolean policy;
  private final boolean specWrapped;
  private final Class<? extends Spec> specClass;

  ResourceType(
      String kumaName,
      String path,
      boolean meshScoped,
      boolean policy,
      Class<? extends Spec> specClass) {
    this(kumaName, path, meshScoped, policy, policy, specClass);
  }

  ResourceType(
      String kumaName,
      String path,
      boolean meshScoped,
      boolean policy,
      boolean specWrapped,
      Class<? extends Spec> specClass) {
    this.kumaName = kumaName;
    this.path = path;
    this.meshScoped = meshScoped;
    this.policy = policy;
    this.specWrapped = specWrapped;
    this.specClass = specClass;
  }

  /**
   * The Kuma kind name, e.g. {@code MeshTrafficPermission}: {@code type:} in universal, {@code
   * kind:} on Kubernetes.
   */
  public String kumaName() {
    return kumaName;
  }

  /**
   * The REST collection path segment, e.g. {@code meshtrafficpermissions} or {@code
   * external-services}.
   */
  public String path() {
    return path;
  }

  /** Whether resources of this kind belong to a mesh (everything but {@code Mesh}). */
  public boolean isMeshScoped() {
    return meshScoped;
  }

  /**
   * Whether this is a new-style policy ({@code spec} with targetRef/from/to) rather than a kind
   * with top-level fields.
   */
  public boolean isPolicy() {
    return policy;
  }

  /**
   * Whether the universal form wraps the body in {@code spec:} and Kubernetes carries the mesh in
   * the {@code kuma.io/mesh} label: every policy, and MeshExternalService. Otherwise the universal
   * body is at the top level and Kubernetes has a top-level {@code mesh:} (Mesh has neither).
   */
  public boolean isSpecWrapped() {
    return specWrapped;
  }

  public Class<? extends Spec> specClass() {
    return specClass;
  }

  /** Looks a kind up by its Kuma name ({@code MeshGateway}); case-sensitive as in Kuma. */
  public static Optional<ResourceType> fromName(String name) {
    return Arrays.stream(values()).filter(t -> t.kumaName.equals(name)).findFirst();
  }

  /** Looks a kind up by its REST collection path ({@code meshgateways}). */
  public static Optional<ResourceType> fromPath(String path) {
    return Arrays.stream(values()).filter(t -> t.path.equals(path)).findFirst();
  }

  /** {@code Mesh, Dataplane, ...}: for "expected: one of ..." messages. */
  public static String allNames() {
    return Arrays.stream(values()).map(ResourceType::kumaName).collect(Collectors.joining(", "));
  }
}
