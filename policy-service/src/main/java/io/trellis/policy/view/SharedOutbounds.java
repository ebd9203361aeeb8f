package io.trellis.policy.view;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.PolicyRules;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The outbound views of one snapshot's proxies, shared: proxies calling a service on the same listener with the
 * same endpoints and merged rules (the replicas of a service, transparent proxies, gateways) get one
 * {@link OutboundView} object, built and serialized once instead of once per proxy. The key holds the endpoint list
 * and the merged rules by identity (the snapshot and the policy indexes hand out one object per distinct content),
 * everything else by value; a miss only costs the building. Capped like the merged-rules cache.
 */
final class SharedOutbounds {
  static final int MAX_SHARED = 1 << 16;

  /** An outbound view with its deterministic serialization (what a view's revision hashes). */
  record Shared(OutboundView view, byte[] bytes) {
    Shared(OutboundView view) {
      this(view, deterministicBytes(view));
    }
  }

  private final Map<Key, Shared> shared = new ConcurrentHashMap<>();

  /** The view of an outbound to {@code service} (not an ExternalService) with these contents. */
  Shared get(String service, String address, int port, Map<String, String> tags, List<Endpoint> endpoints,
      String protocol, List<PolicyRules> rules) {
    Key key = new Key(service, address, port, tags, endpoints, protocol, rules);
    Shared s = shared.get(key);
    if (s == null) {
      s = new Shared(OutboundView.newBuilder()
          .setService(service)
          .setAddress(address)
          .setPort(port)
          .putAllTags(tags)
          .addAllEndpoints(endpoints)
          .setProtocol(protocol)
          .addAllRules(rules)
          .build());
      if (shared.size() < MAX_SHARED) {
        shared.putIfAbsent(key, s);
      }
    }
    return s;
  }

  static byte[] deterministicBytes(Message message) {
    try {
      byte[] bytes = new byte[message.getSerializedSize()];
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      message.writeTo(out);
      out.checkNoSpaceLeft();
      return bytes;
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize " + message.getDescriptorForType().getName(), e);
    }
  }

  private static final class Key {
    private final String service;
    private final String address;
    private final int port;
    private final Map<String, String> tags;
    private final List<Endpoint> endpoints;
    private final String protocol;
    private final List<PolicyRules> rules;
    private final int hash;

    Key(String service, String address, int port, Map<String, String> tags, List<Endpoint> endpoints,
        String protocol, List<PolicyRules> rules) {
      this.service = service;
      this.address = address;
      this.port = port;
      this.tags = tags;
      this.endpoints = endpoints;
      this.protocol = protocol;
      this.rules = rules;
      int h = service.hashCode();
      h = 31 * h + address.hashCode();
      h = 31 * h + port;
      h = 31 * h + tags.hashCode();
      h = 31 * h + System.identityHashCode(endpoints);
      h = 31 * h + protocol.hashCode();
      for (PolicyRules r : rules) {
        h = 31 * h + System.identityHashCode(r);
      }
      this.hash = h;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key k) || k.hash != hash || k.port != port || k.endpoints != endpoints
          || k.rules.size() != rules.size()) {
        return false;
      }
      for (int i = 0; i < rules.size(); i++) {
        if (k.rules.get(i) != rules.get(i)) {
          return false;
        }
      }
      return k.service.equals(service) && k.address.equals(address) && k.protocol.equals(protocol)
          && k.tags.equals(tags);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
