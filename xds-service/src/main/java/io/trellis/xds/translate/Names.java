package io.trellis.xds.translate;

/** Resource names shared by the translators (and seen in config dumps; kept Kuma-like). */
public final class Names {
  private Names() {}

  public static String identitySecret(String mesh) {
    return "identity_cert:secret:" + mesh;
  }

  public static String caSecret(String mesh) {
    return "mesh_ca:secret:" + mesh;
  }

  public static String spiffeId(String mesh, String service) {
    return "spiffe://" + mesh + "/" + service;
  }

  public static String tagUri(String key, String value) {
    return "kuma://" + key + "/" + value;
  }

  public static String inboundListener(String address, int port) {
    return "inbound:" + address + ":" + port;
  }

  public static String outboundListener(String address, int port) {
    return "outbound:" + address + ":" + port;
  }

  public static String localCluster(int servicePort) {
    return "localhost:" + servicePort;
  }

  public static String outboundRoute(String service) {
    return "outbound:" + service;
  }

  public static String inboundRoute(String service) {
    return "inbound:" + service;
  }

  /** A subset cluster of a service: endpoints filtered by tags (MeshServiceSubset backends). */
  public static String subsetCluster(String service, java.util.Map<String, String> tags) {
    StringBuilder b = new StringBuilder(service);
    new java.util.TreeMap<>(tags).forEach((k, v) -> b.append('_').append(k.replace('/', '-')).append('-').append(v));
    return b.toString();
  }

  /** The listener name a proxyless gRPC server asks for with template {@code trellis/inbound/%s}. */
  public static String grpcServerListener(int port) {
    return "trellis/inbound/0.0.0.0:" + port;
  }

  /** Certificate-provider instance name proxyless gRPC clients must define in their bootstrap. */
  public static final String GRPC_CERT_PROVIDER = "trellis";
}
