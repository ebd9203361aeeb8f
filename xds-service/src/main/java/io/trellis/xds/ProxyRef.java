package io.trellis.xds;

import io.grpc.Status;

/** A proxy's identity as named by its node id {@code <mesh>.<dataplane name>}. */
public record ProxyRef(String mesh, String name) {
  /**
   * Parses a node id. Mesh names cannot contain dots, Dataplane names can (Kubernetes: {@code pod.namespace}),
   * so the first dot separates them.
   */
  public static ProxyRef parse(String nodeId) {
    int dot = nodeId == null ? -1 : nodeId.indexOf('.');
    if (dot <= 0 || dot == nodeId.length() - 1) {
      throw Status.INVALID_ARGUMENT.withDescription("node.id: \"" + nodeId
          + "\" (expected: <mesh>.<dataplane name>)").asRuntimeException();
    }
    return new ProxyRef(nodeId.substring(0, dot), nodeId.substring(dot + 1));
  }

  public String nodeId() {
    return mesh + "." + name;
  }

  @Override
  public String toString() {
    return nodeId();
  }
}
