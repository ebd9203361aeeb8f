package io.trellis.xds;

import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * ACK/NACK bookkeeping. A NACK is logged with the proxy, type and resources, and counted; the proxy keeps
 * running its last accepted config (Envoy's behaviour) and the cache keeps its snapshot until the view
 * changes again.
 */
final class XdsCallbacks implements DiscoveryServerCallbacks {
  private static final Logger LOG = Logger.getLogger(XdsCallbacks.class);

  private final MeterRegistry registry;
  /** nodeId → type URL → last ACKed version. */
  private final Map<String, Map<String, String>> acked = new ConcurrentHashMap<>();

  XdsCallbacks(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
    if (request.hasErrorDetail()) {
      nack(request.getNode(), request.getTypeUrl(), request.getResponseNonce(), String.join(",", request.getResourceNamesList()),
          request.getErrorDetail().getMessage());
    } else if (!request.getResponseNonce().isEmpty()) {
      acked.computeIfAbsent(request.getNode().getId(), n -> new ConcurrentHashMap<>())
          .put(request.getTypeUrl(), request.getVersionInfo());
    }
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
    if (request.hasErrorDetail()) {
      nack(request.getNode(), request.getTypeUrl(), request.getResponseNonce(),
          String.join(",", request.getResourceNamesSubscribeList()), request.getErrorDetail().getMessage());
    }
  }

  private void nack(Node node, String typeUrl, String nonce, String resources, String message) {
    String type = typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    LOG.warnf("NACK from proxy %s: type %s, nonce %s, resources [%s]: %s", node.getId(), type, nonce, resources, message);
    Counter.builder("trellis.xds.nacks").description("xDS responses rejected by proxies")
        .tag("type", type).register(registry).increment();
  }

  /** nodeId|typeUrl|nonce → version of the response sent with that nonce (until answered). */
  private final Map<String, String> sent = new ConcurrentHashMap<>();

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request, io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse response) {
    sent.put(request.getNode().getId() + "|" + response.getTypeUrl() + "|" + response.getNonce(), response.getVersionInfo());
  }

  /**
   * For a NACK, the version the proxy rejected; else null. The server treats a NACK's version_info as
   * the proxy's current version: with nothing accepted yet (version "") it would resend the rejected
   * snapshot at once, and the proxy NACK it again, in a tight loop. Presenting the rejected version makes
   * the server wait for the next snapshot instead.
   */
  String rejectedVersion(String nodeId, DiscoveryRequest request) {
    String version = sent.remove(nodeId + "|" + request.getTypeUrl() + "|" + request.getResponseNonce());
    return request.hasErrorDetail() ? version : null;
  }

  /** The version a proxy last ACKed for a type URL, or null. */
  String ackedVersion(String nodeId, String typeUrl) {
    Map<String, String> m = acked.get(nodeId);
    return m == null ? null : m.get(typeUrl);
  }

  void forget(String nodeId) {
    acked.remove(nodeId);
  }
}
