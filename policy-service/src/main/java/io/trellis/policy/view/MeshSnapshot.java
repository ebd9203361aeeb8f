package io.trellis.policy.view;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.ExternalServiceSpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.policy.matching.PolicyOrder;
import io.trellis.policy.matching.PolicyPlugin;
import io.trellis.policy.matching.PolicyPlugins;
import io.trellis.policy.matching.TargetRefs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything of one mesh that proxy views are computed from, indexed once per change batch: policies in apply
 * order with their entries parsed, endpoints by service, gateways, routes, secrets. Immutable.
 */
public final class MeshSnapshot {
  final String mesh;
  final Resource meshResource;
  final Map<String, Resource> dataplanes = new TreeMap<>();
  final Map<ResourceType, List<ParsedPolicy>> policies = new EnumMap<>(ResourceType.class);
  final Map<String, List<Endpoint>> endpointsByService = new TreeMap<>();
  final Map<String, String> protocolByService = new TreeMap<>();
  final Map<String, Resource> externalServices = new TreeMap<>();
  final List<Resource> gateways = new ArrayList<>();
  final List<Resource> gatewayRoutes = new ArrayList<>();
  final Map<String, Resource> secrets = new TreeMap<>();
  final List<Resource> keyAuths = new ArrayList<>();
  final Map<String, String> virtualIps;
  final ResourceCodec codec;
  final String meshJson;
  /** Per policy type: policies found by the service or Dataplane name their top-level targetRef names. */
  private final Map<ResourceType, Index> indexes = new EnumMap<>(ResourceType.class);

  /**
   * Top-level targetRefs naming a service or a Dataplane are looked up by that name; every other kind (Mesh,
   * MeshSubset, labels, gateways) is checked against each proxy. Candidates keep the apply order via their position.
   */
  private record Index(List<ParsedPolicy> scan, Map<String, List<ParsedPolicy>> byService,
      Map<String, List<ParsedPolicy>> byDataplane, Map<ParsedPolicy, Integer> position) {}

  private MeshSnapshot(String mesh, Resource meshResource, Collection<Resource> resources, ResourceCodec codec) {
    this.mesh = mesh;
    this.meshResource = meshResource;
    this.codec = codec;
    Map<ResourceType, List<Resource>> byType = new EnumMap<>(ResourceType.class);
    for (Resource r : resources) {
      byType.computeIfAbsent(r.type(), t -> new ArrayList<>()).add(r);
    }
    for (Resource dp : byType.getOrDefault(ResourceType.DATAPLANE, List.of())) {
      dataplanes.put(dp.name(), dp);
      DataplaneSpec.Networking net = dp.spec(DataplaneSpec.class).networking();
      if (net == null || net.inbound() == null) {
        continue;
      }
      for (DataplaneSpec.Inbound in : net.inbound()) {
        String service = in.tags() == null ? null : in.tags().get(TargetRefs.SERVICE);
        if (service == null) {
          continue;
        }
        protocolByService.putIfAbsent(service, in.tags().getOrDefault("kuma.io/protocol", "tcp"));
        List<Endpoint> endpoints = endpointsByService.computeIfAbsent(service, s -> new ArrayList<>());
        boolean ready = in.health() == null || in.health().ready() == null || in.health().ready();
        // Only healthy inbounds receive traffic; an unhealthy one is left out rather than sent with a flag.
        if (ready) {
          String address = in.address() != null ? in.address()
              : net.advertisedAddress() != null ? net.advertisedAddress() : net.address();
          endpoints.add(Endpoint.newBuilder()
              .setAddress(address == null ? "" : address)
              .setPort(in.port() == null ? 0 : in.port())
              .putAllTags(in.tags())
              .setWeight(1)
              .setZone(in.tags().getOrDefault("kuma.io/zone", ""))
              .setHealthy(true)
              .setDataplane(dp.name())
              .build());
        }
      }
    }
    for (Resource es : byType.getOrDefault(ResourceType.EXTERNAL_SERVICE, List.of())) {
      Map<String, String> tags = es.spec(ExternalServiceSpec.class).tags();
      if (tags != null && tags.get(TargetRefs.SERVICE) != null) {
        externalServices.put(tags.get(TargetRefs.SERVICE), es);
      }
    }
    gateways.addAll(byType.getOrDefault(ResourceType.MESH_GATEWAY, List.of()));
    gatewayRoutes.addAll(byType.getOrDefault(ResourceType.MESH_GATEWAY_ROUTE, List.of()));
    for (Resource s : byType.getOrDefault(ResourceType.SECRET, List.of())) {
      secrets.put(s.name(), s);
    }
    List<Resource> auths = new ArrayList<>(byType.getOrDefault(ResourceType.MESH_GATEWAY_KEY_AUTH, List.of()));
    auths.sort(PolicyOrder.APPLY_ORDER);
    keyAuths.addAll(auths);
    for (PolicyPlugin plugin : PolicyPlugins.ALL) {
      List<Resource> list = new ArrayList<>(byType.getOrDefault(plugin.type(), List.of()));
      list.sort(PolicyOrder.APPLY_ORDER);
      List<ParsedPolicy> parsed = new ArrayList<>(list.size());
      for (Resource p : list) {
        JsonNode spec = codec.toJsonNode(p.spec());
        parsed.add(new ParsedPolicy(p, ((PolicySpec) p.spec()).targetRef(),
            plugin.fromEntries(p, spec, codec.jsonMapper()), plugin.toEntries(p, spec, codec.jsonMapper())));
      }
      policies.put(plugin.type(), List.copyOf(parsed));
      List<ParsedPolicy> scan = new ArrayList<>();
      Map<String, List<ParsedPolicy>> byService = new java.util.HashMap<>();
      Map<String, List<ParsedPolicy>> byDataplane = new java.util.HashMap<>();
      Map<ParsedPolicy, Integer> position = new java.util.IdentityHashMap<>();
      for (ParsedPolicy p : parsed) {
        position.put(p, position.size());
        var top = p.top();
        if (top != null && top.name() != null && (top.kind() == io.trellis.api.model.TargetRef.Kind.MeshService
            || top.kind() == io.trellis.api.model.TargetRef.Kind.MeshServiceSubset)) {
          byService.computeIfAbsent(top.name(), k -> new ArrayList<>()).add(p);
        } else if (top != null && top.name() != null && top.kind() == io.trellis.api.model.TargetRef.Kind.Dataplane) {
          byDataplane.computeIfAbsent(top.name(), k -> new ArrayList<>()).add(p);
        } else {
          scan.add(p);
        }
      }
      indexes.put(plugin.type(), new Index(scan, byService, byDataplane, position));
    }
    Set<String> services = new java.util.TreeSet<>(endpointsByService.keySet());
    services.addAll(externalServices.keySet());
    virtualIps = VirtualIps.assign(services);
    meshJson = meshResource == null ? "" : codec.writeUniversalJson(meshResource);
  }

  /**
   * The policies of {@code type} that could select {@code dataplane}, in apply order: a superset of the matching
   * ones (callers still match each), found without scanning policies that name other services or Dataplanes.
   */
  List<ParsedPolicy> candidates(ResourceType type, Resource dataplane) {
    Index index = indexes.get(type);
    if (index == null) {
      return List.of();
    }
    if (index.byService().isEmpty() && index.byDataplane().isEmpty()) {
      return index.scan();
    }
    List<ParsedPolicy> out = new ArrayList<>(index.scan());
    Set<String> seen = new HashSet<>();
    DataplaneSpec.Networking net = dataplane.spec(DataplaneSpec.class).networking();
    if (net != null && net.inbound() != null) {
      for (DataplaneSpec.Inbound in : net.inbound()) {
        String service = in.tags() == null ? null : in.tags().get(TargetRefs.SERVICE);
        if (service != null && seen.add(service)) {
          out.addAll(index.byService().getOrDefault(service, List.of()));
        }
      }
    }
    if (net != null && net.gateway() != null && net.gateway().tags() != null) {
      String service = net.gateway().tags().get(TargetRefs.SERVICE);
      if (service != null && seen.add(service)) {
        out.addAll(index.byService().getOrDefault(service, List.of()));
      }
    }
    out.addAll(index.byDataplane().getOrDefault(dataplane.name(), List.of()));
    if (out.size() != index.scan().size()) {
      out.sort(java.util.Comparator.comparingInt(index.position()::get));
    }
    return out;
  }

  /** Builds the snapshot of {@code mesh} from all its resources ({@code meshResource} may be null). */
  public static MeshSnapshot of(String mesh, Resource meshResource, Collection<Resource> resources,
      ResourceCodec codec) {
    return new MeshSnapshot(mesh, meshResource, resources, codec);
  }

  public String mesh() {
    return mesh;
  }

  public Collection<Resource> dataplanes() {
    return dataplanes.values();
  }

  public Resource dataplane(String name) {
    return dataplanes.get(name);
  }

  public boolean mtlsEnabled() {
    if (meshResource == null) {
      return false;
    }
    MeshSpec.Mtls mtls = meshResource.spec(MeshSpec.class).mtls();
    return mtls != null && mtls.enabledBackend() != null && !mtls.enabledBackend().isEmpty();
  }

  /** Every service name of the mesh (from inbounds and ExternalServices), sorted. */
  public Set<String> services() {
    Set<String> all = new HashSet<>(endpointsByService.keySet());
    all.addAll(externalServices.keySet());
    return new java.util.TreeSet<>(all);
  }

  static final Comparator<Resource> BY_NAME = Comparator.comparing(Resource::name);
}
