package io.trellis.xds.translate;

import java.util.List;

/**
 * The whole translation of one proxy view: listeners, routes, clusters, endpoints and secrets. A pure
 * function; {@code identity} is null only when the mesh has no mTLS.
 */
public final class ProxyTranslator {
  private ProxyTranslator() {}

  public static XdsResources translate(ProxyInput in, SecretTranslator.Identity identity) {
    if (in.mtls() && identity == null) {
      throw new IllegalStateException("identity: missing (expected: a signed certificate when mTLS is on)");
    }
    List<io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret> secrets =
        in.mtls() && !in.proxyless() ? SecretTranslator.translate(in.meshName(), identity) : List.of();
    if (in.view().hasGateway()) {
      return io.trellis.xds.gateway.GatewayTranslator.translate(in, secrets);
    }
    return new XdsResources(
        ListenerTranslator.translate(in),
        RouteTranslator.translate(in),
        ClusterTranslator.translate(in),
        EndpointTranslator.translate(in),
        secrets);
  }
}
