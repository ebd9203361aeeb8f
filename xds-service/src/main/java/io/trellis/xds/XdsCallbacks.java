package io.trellis.xds;

import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.trellis.xds.translate.EnvoyTypes;
import java.util.ArrayList;
import java.util.List;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * ACK/NACK bookkeeping. A NACK is logged with the proxy, the resource type, the rejected version and the
 * names of the resources in the rejected response, and counted ({@code trellis_xds_nacks_total} by type
 * and mesh); the proxy keeps running its last accepted config (Envoy's and grpc-java's behaviour) and the
 * server does not resend the rejected version (see {@link #rejectedVersion}), so the next push is the next
 * view change.
 */
final class XdsCallbacks implements DiscoveryServerCallbacks {
  private static final Logger LOG = Logger.getLogger(XdsCallbacks.class);

  private final MeterRegistry registry;
  /** nodeId → type URL → last ACKed version. */
  private final Map<String, Map<String, String>> acked = new ConcurrentHashMap<>();
  /** nodeId → "typeUrl|nonce" → response sent with that nonce, until the proxy answers it. */
  private final Map<String, Map<String, DiscoveryResponse>> sent = new ConcurrentHashMap<>();
  /** streamId → nodeId, to drop a node's bookkeeping when its last stream closes. */
  private final Map<Long, String> streams = new ConcurrentHashMap<>();

  XdsCallbacks(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
    String nodeId = request.getNode().getId();
    streams.putIfAbsent(streamId, nodeId);
    if (request.hasErrorDetail()) {
      DiscoveryResponse rejected = sentMap(nodeId).get(request.getTypeUrl() + "|" + request.getResponseNonce());
      nack(request.getNode(), request.getTypeUrl(), rejected == null ? "?" : rejected.getVersionInfo(),
          rejected == null ? String.join(",", request.getResourceNamesList()) : names(rejected.getResourcesList()),
          request.getErrorDetail().getMessage(), ackedVersion(nodeId, request.getTypeUrl()));
    } else if (!request.getResponseNonce().isEmpty()) {
      acked.computeIfAbsent(nodeId, n -> new ConcurrentHashMap<>()).put(request.getTypeUrl(), request.getVersionInfo());
    }
    if (!request.getResponseNonce().isEmpty()) {
      sentMap(nodeId).remove(request.getTypeUrl() + "|" + request.getResponseNonce());
    }
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
    streams.putIfAbsent(streamId, request.getNode().getId());
    if (request.hasErrorDetail()) {
      nack(request.getNode(), request.getTypeUrl(), "nonce " + request.getResponseNonce(),
          String.join(",", request.getResourceNamesSubscribeList()), request.getErrorDetail().getMessage(), null);
    }
  }

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
    sentMap(request.getNode().getId()).put(response.getTypeUrl() + "|" + response.getNonce(), response);
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    closed(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    closed(streamId);
  }

  private void closed(long streamId) {
    String nodeId = streams.remove(streamId);
    if (nodeId != null && !streams.containsValue(nodeId)) {
      acked.remove(nodeId);
      sent.remove(nodeId);
    }
  }

  private Map<String, DiscoveryResponse> sentMap(String nodeId) {
    return sent.computeIfAbsent(nodeId, n -> new ConcurrentHashMap<>());
  }

  private void nack(Node node, String typeUrl, String version, String resources, String message, String keeps) {
    String type = typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    String nodeId = node.getId();
    String mesh = nodeId.indexOf('.') > 0 ? nodeId.substring(0, nodeId.indexOf('.')) : "";
    LOG.warnf("NACK from proxy %s: %s version %s rejected, resources [%s]: %s (the proxy keeps version %s)",
        nodeId, type, version, resources, message, keeps == null ? "it last accepted" : keeps.isEmpty() ? "none" : keeps);
    Counter.builder("trellis.xds.nacks").description("xDS responses rejected by proxies")
        .tag("type", type).tag("mesh", mesh).register(registry).increment();
  }

  /** Names of the resources in a response (only on the NACK path: unpacking is not free). */
  static String names(List<Any> resources) {
    List<String> names = new ArrayList<>();
    for (Any a : resources) {
      try {
        Message m = EnvoyTypes.unpack(a);
        FieldDescriptor f = m.getDescriptorForType().findFieldByName("name");
        if (f == null) {
          f = m.getDescriptorForType().findFieldByName("cluster_name");
        }
        names.add(f == null ? a.getTypeUrl() : String.valueOf(m.getField(f)));
      } catch (Exception e) {
        names.add(a.getTypeUrl());
      }
    }
    return String.join(",", names);
  }

  /**
   * For a NACK, the version the proxy rejected; else null. The server treats a NACK's version_info as
   * the proxy's current version: with nothing accepted yet (version "") it would resend the rejected
   * snapshot at once, and the proxy NACK it again, in a tight loop. Presenting the rejected version makes
   * the server wait for the next snapshot instead.
   */
  String rejectedVersion(String nodeId, DiscoveryRequest request) {
    if (!request.hasErrorDetail()) {
      return null;
    }
    Map<String, DiscoveryResponse> m = sent.get(nodeId);
    DiscoveryResponse r = m == null ? null : m.get(request.getTypeUrl() + "|" + request.getResponseNonce());
    return r == null ? null : r.getVersionInfo();
  }

  /** The version a proxy last ACKed for a type URL, or null. */
  String ackedVersion(String nodeId, String typeUrl) {
    Map<String, String> m = acked.get(nodeId);
    return m == null ? null : m.get(typeUrl);
  }
}
