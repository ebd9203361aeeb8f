package io.trellis.policy.view;

import com.fasterxml.jackson.core.JsonGenerator;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.policy.matching.TargetRefs;
import java.io.IOException;
import java.io.StringWriter;
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
      j = universalJson(codec, resource);
      json = j;
    }
    return j;
  }

  /**
   * Exactly {@link ResourceCodec#writeUniversalJson} of a Dataplane, written in one pass instead of through the
   * codec's intermediate tree (which costs most of a full recompute's JSON work): the universal header fields, then
   * the spec's own serialization spliced in. A Dataplane spec has no field named like a header field
   * (IndexedDataplaneTest holds the two forms equal).
   */
  static String universalJson(ResourceCodec codec, Resource resource) {
    if (resource.type() != ResourceType.DATAPLANE || resource.type().isSpecWrapped()) {
      return codec.writeUniversalJson(resource);
    }
    try {
      StringWriter out = new StringWriter(512);
      Meta meta = resource.meta();
      try (JsonGenerator gen = codec.jsonMapper().getFactory().createGenerator(out)
          .disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT)) { // the object is closed by the spec's end
        gen.writeStartObject();
        gen.writeStringField("type", resource.type().kumaName());
        if (meta.mesh() != null) {
          gen.writeStringField("mesh", meta.mesh());
        }
        if (meta.name() != null) {
          gen.writeStringField("name", meta.name());
        }
        if (!meta.labels().isEmpty()) {
          gen.writeObjectFieldStart("labels");
          for (Map.Entry<String, String> label : meta.labels().entrySet()) {
            gen.writeStringField(label.getKey(), label.getValue());
          }
          gen.writeEndObject();
        }
        if (meta.creationTime() != null) {
          gen.writeStringField("creationTime", meta.creationTime().toString());
        }
        if (meta.modificationTime() != null) {
          gen.writeStringField("modificationTime", meta.modificationTime().toString());
        }
      }
      String spec = codec.jsonMapper().writeValueAsString(resource.spec());
      return spec.equals("{}") ? out.append('}').toString() : out.append(',').append(spec, 1, spec.length()).toString();
    } catch (IOException e) {
      throw new IllegalStateException("cannot write Dataplane " + resource.name() + " as JSON", e);
    }
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
