package io.trellis.injector.inject;

/** The pod/namespace annotations and labels the injector reads and writes (Kuma's keys). */
public final class Annotations {
  private Annotations() {}

  public static final String SIDECAR_INJECTION = "kuma.io/sidecar-injection";
  public static final String SIDECAR_INJECTED = "kuma.io/sidecar-injected";
  public static final String SIDECAR_UID = "kuma.io/sidecar-uid";
  public static final String MESH = "kuma.io/mesh";
  public static final String GATEWAY = "kuma.io/gateway";
  public static final String TRANSPARENT_PROXYING = "kuma.io/transparent-proxying";
  public static final String INBOUND_PORT = "kuma.io/transparent-proxying-inbound-port";
  public static final String OUTBOUND_PORT = "kuma.io/transparent-proxying-outbound-port";
  public static final String IP_FAMILY_MODE = "kuma.io/transparent-proxying-ip-family-mode";
  public static final String REACHABLE_SERVICES = "kuma.io/transparent-proxying-reachable-services";
  public static final String ENVOY_ADMIN_PORT = "kuma.io/envoy-admin-port";
  public static final String ENVOY_LOG_LEVEL = "kuma.io/envoy-log-level";
  public static final String SIDECAR_ENV_VARS = "kuma.io/sidecar-env-vars";
  public static final String VIRTUAL_PROBES = "kuma.io/virtual-probes";
  public static final String VIRTUAL_PROBES_PORT = "kuma.io/virtual-probes-port";
  public static final String BUILTIN_DNS = "kuma.io/builtin-dns";
  public static final String BUILTIN_DNS_PORT = "kuma.io/builtin-dns-port";
  public static final String EXCLUDE_INBOUND_PORTS = "traffic.kuma.io/exclude-inbound-ports";
  public static final String EXCLUDE_OUTBOUND_PORTS = "traffic.kuma.io/exclude-outbound-ports";
  public static final String EXCLUDE_OUTBOUND_PORTS_FOR_UIDS = "traffic.kuma.io/exclude-outbound-ports-for-uids";
  public static final String EXCLUDE_INBOUND_IPS = "traffic.kuma.io/exclude-inbound-ips";
  public static final String EXCLUDE_OUTBOUND_IPS = "traffic.kuma.io/exclude-outbound-ips";
  /** Trellis: per-pod override of {@code trellis.injector.native-sidecar}. */
  public static final String NATIVE_SIDECAR = "trellis.io/native-sidecar";

  public static final String SIDECAR_NAME = "kuma-sidecar";
  public static final String INIT_NAME = "kuma-init";
}
