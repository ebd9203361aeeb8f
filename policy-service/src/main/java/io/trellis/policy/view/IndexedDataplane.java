package io.trellis.policy.view;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.Resource;
import io.trellis.policy.matching.TargetRefs;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Dataplane with what the indexes look it up by, derived once per version of the resource and kept by later
 * snapshots while it is unchanged (with its JSON form, written on first use).
 */
final class IndexedDataplane {
  final Resource resource;
  final DataplaneSpec spec;
  /** {@code kuma.io/service} of its inbounds and gateway, distinct, in order. */
  final List<String> services;
  /** Every tag of its inbounds and gateway as {@link #key}. */
  final Set<String> tagKeys;
  /** Its labels as {@link #key}. */
  final Set<String> labelKeys;
  /** Services named by its explicit outbounds. */
  final List<String> outboundServices;
  final boolean transparent;
  final boolean builtinGateway;
  private volatile String json;

  IndexedDataplane(Resource resource) {
    this.resource = resource;
    this.spec = resource.spec(DataplaneSpec.class);
    DataplaneSpec.Networking net = spec.networking();
    Set<String> svc = new LinkedHashSet<>();
    Set<String> tags = new LinkedHashSet<>();
    Set<String> out = new LinkedHashSet<>();
    if (net != null && net.inbound() != null) {
      for (DataplaneSpec.Inbound in : net.inbound()) {
        addTags(in.tags(), svc, tags);
      }
    }
    if (net != null && net.gateway() != null) {
      addTags(net.gateway().tags(), svc, tags);
    }
    if (net != null && net.outbound() != null) {
      for (DataplaneSpec.Outbound o : net.outbound()) {
        String service = outboundService(o);
        if (service != null) {
          out.add(service);
        }
      }
    }
    List<String> labels = new ArrayList<>();
    for (Map.Entry<String, String> e : resource.meta().labels().entrySet()) {
      labels.add(key(e.getKey(), e.getValue()));
    }
    this.services = List.copyOf(svc);
    this.tagKeys = Set.copyOf(tags);
    this.labelKeys = Set.copyOf(labels);
    this.outboundServices = List.copyOf(out);
    this.transparent = net != null && net.transparentProxying() != null;
    this.builtinGateway = net != null && net.gateway() != null
        && net.gateway().type() == DataplaneSpec.GatewayType.BUILTIN;
  }

  String name() {
    return resource.name();
  }

  String json(ResourceCodec codec) {
    String j = json;
    if (j == null) {
      j = codec.writeUniversalJson(resource);
      json = j;
    }
    return j;
  }

  /** The service an explicit outbound calls: its {@code kuma.io/service} tag, else its backendRef's name. */
  static String outboundService(DataplaneSpec.Outbound out) {
    String service = out.tags() == null ? null : out.tags().get(TargetRefs.SERVICE);
    if (service == null && out.backendRef() != null) {
      service = out.backendRef().path("name").asText(null);
    }
    return service;
  }

  /** A tag or label as one lookup key. */
  static String key(String name, String value) {
    return name + '\u0000' + value;
  }

  private static void addTags(Map<String, String> tags, Set<String> services, Set<String> keys) {
    if (tags == null) {
      return;
    }
    for (Map.Entry<String, String> e : tags.entrySet()) {
      if (e.getValue() == null) {
        continue;
      }
      keys.add(key(e.getKey(), e.getValue()));
      if (e.getKey().equals(TargetRefs.SERVICE)) {
        services.add(e.getValue());
      }
    }
  }
}
