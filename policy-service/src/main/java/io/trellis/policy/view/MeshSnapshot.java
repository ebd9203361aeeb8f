package io.trellis.policy.view;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.ExternalServiceSpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.model.TargetRef;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.policy.matching.PolicyOrder;
import io.trellis.policy.matching.PolicyPlugin;
import io.trellis.policy.matching.PolicyPlugins;
import io.trellis.policy.matching.TargetRefs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything of one mesh that proxy views are computed from, indexed: policies in apply order with their entries
 * parsed and indexed by targetRef ({@link PolicyIndex}), endpoints by service, gateways, routes, secrets.
 * Immutable. {@link #with} applies one change by copying only what the change touches (the changed type's index,
 * the endpoint lists of the changed Dataplane's services), so a change costs far less than {@link #of}; both give
 * equal results (a property test holds them to it).
 *
 * <p>Every derived collection is in name order, never in the order resources happened to be listed, so a snapshot
 * is a function of the set of resources only.
 */
public final class MeshSnapshot {
  final String mesh;
  final Resource meshResource;
  final ResourceCodec codec;
  final String meshJson;
  /** Every resource of the mesh but the Mesh itself, by type then name; an inner map is shared until its type changes. Unordered: whatever depends on order sorts. */
  private final Map<ResourceType, Map<String, Resource>> byType;
  /** By name; unordered (where order matters, e.g. endpoints, names are taken from sorted sets). */
  final ShardedMap<String, IndexedDataplane> dataplanes;
  final Map<ResourceType, PolicyIndex> policies;
  final ShardedMap<String, List<Endpoint>> endpointsByService;
  final ShardedMap<String, String> protocolByService;
  /** Dataplanes carrying a {@code kuma.io/service} on an inbound or their gateway, by service, in name order. */
  final ShardedMap<String, Set<String>> dataplanesByService;
  /** Dataplanes with an explicit outbound to a service, by service. */
  final ShardedMap<String, Set<String>> consumersByService;
  /**
   * Dataplanes by tag and label, for {@link #affectedBy}: built on first use (a full rebuild does not pay for it),
   * then kept up to date by the snapshots derived from this one.
   */
  private volatile KeyIndex keyIndex;
  /** Dataplanes whose views depend on every service of the mesh: transparent proxies and builtin gateways. */
  final Set<String> meshWideDataplanes;
  final Set<String> builtinGateways;
  final Map<String, Resource> externalServices;
  final List<Resource> gateways;
  final List<Resource> gatewayRoutes;
  final Map<String, Resource> secrets;
  final List<Resource> keyAuths;
  final Set<String> services;
  /** The outbound views its proxies share; filled as views are built (never carried to the next snapshot). */
  final SharedOutbounds sharedOutbounds = new SharedOutbounds();
  final Map<String, String> virtualIps;

  /** Builds the snapshot of {@code mesh} from all its resources ({@code meshResource} may be null). */
  public static MeshSnapshot of(String mesh, Resource meshResource, Collection<Resource> resources,
      ResourceCodec codec) {
    Map<ResourceType, Map<String, Resource>> byType = new EnumMap<>(ResourceType.class);
    for (Resource r : resources) {
      byType.computeIfAbsent(r.type(), t -> new HashMap<>()).put(r.name(), r);
    }
    byType.replaceAll((t, m) -> ShardedMap.copyOf(m));
    return new MeshSnapshot(mesh, meshResource, codec, byType, null, null, null);
  }

  /**
   * This snapshot with one change applied: {@code after} is the new version of resource {@code type}/{@code name}
   * of this mesh, null when it was deleted. A change to the Mesh itself gives a new snapshot sharing everything
   * else.
   */
  public MeshSnapshot with(ResourceType type, String name, Resource after) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
    if (type == ResourceType.MESH) {
      if (!name.equals(mesh)) {
        throw new IllegalArgumentException("name: " + name + " (expected: the snapshot's mesh " + mesh + ")");
      }
      return new MeshSnapshot(mesh, after, codec, byType, this, type, null);
    }
    if (after != null && !(after.type() == type && after.name().equals(name) && mesh.equals(after.mesh()))) {
      throw new IllegalArgumentException("after: " + after.type() + " " + after.mesh() + "/" + after.name()
          + " (expected: " + type + " " + mesh + "/" + name + ")");
    }
    Map<ResourceType, Map<String, Resource>> types = new EnumMap<>(ResourceType.class);
    types.putAll(byType);
    ShardedMap<String, Resource> of = ShardedMap.copyOf(byType.getOrDefault(type, Map.of()));
    Resource before = of.get(name);
    if (before == null && after == null) {
      return this;
    }
    types.put(type, of.with(name, after));
    return new MeshSnapshot(mesh, meshResource, codec, types, this, type, new Change(name, before, after));
  }

  private record Change(String name, Resource before, Resource after) {}

  private MeshSnapshot(String mesh, Resource meshResource, ResourceCodec codec,
      Map<ResourceType, Map<String, Resource>> byType, MeshSnapshot prev, ResourceType changed, Change change) {
    this.mesh = mesh;
    this.meshResource = meshResource;
    this.codec = codec;
    this.byType = byType;
    this.meshJson = prev != null && changed != ResourceType.MESH ? prev.meshJson
        : meshResource == null ? "" : codec.writeUniversalJson(meshResource);

    // Dataplanes and what is derived from them.
    boolean servicesMoved = prev == null || changed == ResourceType.EXTERNAL_SERVICE;
    if (prev != null && changed != ResourceType.DATAPLANE) {
      dataplanes = prev.dataplanes;
      endpointsByService = prev.endpointsByService;
      protocolByService = prev.protocolByService;
      dataplanesByService = prev.dataplanesByService;
      consumersByService = prev.consumersByService;
      keyIndex = prev.keyIndex;
      meshWideDataplanes = prev.meshWideDataplanes;
      builtinGateways = prev.builtinGateways;
    } else if (prev != null) {
      IndexedDataplane before = prev.dataplanes.get(change.name());
      IndexedDataplane after = change.after() == null ? null : new IndexedDataplane(change.after());
      dataplanes = prev.dataplanes.with(change.name(), after);
      dataplanesByService = move(prev.dataplanesByService, change.name(),
          before == null ? List.of() : before.services, after == null ? List.of() : after.services);
      consumersByService = move(prev.consumersByService, change.name(),
          before == null ? List.of() : before.outboundServices,
          after == null ? List.of() : after.outboundServices);
      KeyIndex keys = prev.keyIndex;
      keyIndex = keys == null ? null : new KeyIndex(
          moveKeys(keys.byTag(), change.name(), before == null ? Set.of() : before.tagKeys,
              after == null ? Set.of() : after.tagKeys),
          moveKeys(keys.byLabel(), change.name(), before == null ? Set.of() : before.labelKeys,
              after == null ? Set.of() : after.labelKeys));
      Set<String> touched = new LinkedHashSet<>();
      if (before != null) {
        touched.addAll(before.services);
      }
      if (after != null) {
        touched.addAll(after.services);
      }
      Map<String, List<Endpoint>> endpoints = new HashMap<>();
      Map<String, String> protocols = new HashMap<>();
      ShardedMap<String, List<Endpoint>> allEndpoints = prev.endpointsByService;
      ShardedMap<String, String> allProtocols = prev.protocolByService;
      for (String service : touched) {
        endpoints.clear();
        protocols.clear();
        endpointsOf(service, dataplanes, dataplanesByService, endpoints, protocols);
        allEndpoints = allEndpoints.with(service, endpoints.get(service));
        allProtocols = allProtocols.with(service, protocols.get(service));
        servicesMoved |= prev.endpointsByService.containsKey(service) != allEndpoints.containsKey(service);
      }
      endpointsByService = allEndpoints;
      protocolByService = allProtocols;
      meshWideDataplanes = withMember(prev.meshWideDataplanes, change.name(),
          after != null && (after.transparent || after.builtinGateway));
      builtinGateways = withMember(prev.builtinGateways, change.name(), after != null && after.builtinGateway);
    } else {
      Map<String, IndexedDataplane> dps = new HashMap<>();
      Map<String, Set<String>> carriers = new HashMap<>();
      Map<String, Set<String>> consumers = new HashMap<>();
      Set<String> meshWide = new TreeSet<>();
      Set<String> gatewaysDps = new TreeSet<>();
      for (Resource r : byType.getOrDefault(ResourceType.DATAPLANE, Map.of()).values()) {
        IndexedDataplane dp = new IndexedDataplane(r);
        dps.put(r.name(), dp);
        for (String service : dp.services) {
          carriers.computeIfAbsent(service, s -> new TreeSet<>()).add(r.name());
        }
        for (String service : dp.outboundServices) {
          consumers.computeIfAbsent(service, s -> new TreeSet<>()).add(r.name());
        }
        if (dp.transparent || dp.builtinGateway) {
          meshWide.add(r.name());
        }
        if (dp.builtinGateway) {
          gatewaysDps.add(r.name());
        }
      }
      carriers.replaceAll((s, set) -> Collections.unmodifiableSet(set));
      consumers.replaceAll((s, set) -> Collections.unmodifiableSet(set));
      dataplanes = ShardedMap.copyOf(dps);
      dataplanesByService = ShardedMap.copyOf(carriers);
      consumersByService = ShardedMap.copyOf(consumers);
      keyIndex = null;
      Map<String, List<Endpoint>> endpoints = new HashMap<>();
      Map<String, String> protocols = new HashMap<>();
      for (String service : carriers.keySet()) {
        endpointsOf(service, dataplanes, dataplanesByService, endpoints, protocols);
      }
      endpointsByService = ShardedMap.copyOf(endpoints);
      protocolByService = ShardedMap.copyOf(protocols);
      meshWideDataplanes = Collections.unmodifiableSet(meshWide);
      builtinGateways = Collections.unmodifiableSet(gatewaysDps);
    }

    // Policies: only the changed type's index is rebuilt, and only the changed policy is parsed again.
    if (prev == null) {
      Map<ResourceType, PolicyIndex> idx = new EnumMap<>(ResourceType.class);
      for (PolicyPlugin plugin : PolicyPlugins.ALL) {
        idx.put(plugin.type(), PolicyIndex.of(plugin,
            byType.getOrDefault(plugin.type(), Map.of()).values(), codec));
      }
      policies = Collections.unmodifiableMap(idx);
    } else if (PolicyPlugins.of(changed).isPresent()) {
      Map<ResourceType, PolicyIndex> idx = new EnumMap<>(prev.policies);
      idx.put(changed, prev.policies.get(changed).with(change.name(), change.after(), codec));
      policies = Collections.unmodifiableMap(idx);
    } else {
      policies = prev.policies;
    }

    // The few resources of other kinds are re-derived whole when their type changes.
    externalServices = prev != null && changed != ResourceType.EXTERNAL_SERVICE ? prev.externalServices
        : externalServices(byType);
    gateways = prev != null && changed != ResourceType.MESH_GATEWAY ? prev.gateways
        : byName(byType.getOrDefault(ResourceType.MESH_GATEWAY, Map.of()).values());
    gatewayRoutes = prev != null && changed != ResourceType.MESH_GATEWAY_ROUTE ? prev.gatewayRoutes
        : byName(byType.getOrDefault(ResourceType.MESH_GATEWAY_ROUTE, Map.of()).values());
    secrets = byType.getOrDefault(ResourceType.SECRET, Map.of());
    if (prev != null && changed != ResourceType.MESH_GATEWAY_KEY_AUTH) {
      keyAuths = prev.keyAuths;
    } else {
      List<Resource> auths = new ArrayList<>(byType.getOrDefault(ResourceType.MESH_GATEWAY_KEY_AUTH, Map.of())
          .values());
      auths.sort(PolicyOrder.APPLY_ORDER);
      keyAuths = List.copyOf(auths);
    }

    if (servicesMoved) {
      Set<String> all = new TreeSet<>(endpointsByService.keySet());
      all.addAll(externalServices.keySet());
      services = Collections.unmodifiableSet(all);
      virtualIps = prev != null && prev.services.equals(all) ? prev.virtualIps
          : Collections.unmodifiableMap(VirtualIps.assign(all));
    } else {
      services = prev.services;
      virtualIps = prev.virtualIps;
    }
  }

  private static Map<String, Resource> externalServices(Map<ResourceType, Map<String, Resource>> byType) {
    Map<String, Resource> out = new TreeMap<>();
    for (Resource es : byName(byType.getOrDefault(ResourceType.EXTERNAL_SERVICE, Map.of()).values())) {
      Map<String, String> tags = es.spec(ExternalServiceSpec.class).tags();
      if (tags != null && tags.get(TargetRefs.SERVICE) != null) {
        out.put(tags.get(TargetRefs.SERVICE), es);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** {@code index} with {@code dataplane} moved from the sets of {@code before}'s services to those of {@code after}'s. */
  private static ShardedMap<String, Set<String>> move(ShardedMap<String, Set<String>> index, String dataplane,
      List<String> before, List<String> after) {
    for (String s : before) {
      if (!after.contains(s)) {
        Set<String> set = new TreeSet<>(index.getOrDefault(s, Set.of()));
        set.remove(dataplane);
        index = index.with(s, set.isEmpty() ? null : Collections.unmodifiableSet(set));
      }
    }
    for (String s : after) {
      Set<String> current = index.getOrDefault(s, Set.of());
      if (!current.contains(dataplane)) {
        Set<String> set = new TreeSet<>(current);
        set.add(dataplane);
        index = index.with(s, Collections.unmodifiableSet(set));
      }
    }
    return index;
  }

  /** {@code index} with {@code dataplane} moved from the keys {@code before} to the keys {@code after}. */
  private static ShardedMap<String, ShardedMap<String, Boolean>> moveKeys(
      ShardedMap<String, ShardedMap<String, Boolean>> index, String dataplane, Set<String> before,
      Set<String> after) {
    for (String key : before) {
      if (!after.contains(key)) {
        ShardedMap<String, Boolean> names = index.getOrDefault(key, ShardedMap.empty()).with(dataplane, null);
        index = index.with(key, names.isEmpty() ? null : names);
      }
    }
    for (String key : after) {
      index = index.with(key, index.getOrDefault(key, ShardedMap.empty()).with(dataplane, Boolean.TRUE));
    }
    return index;
  }

  /** Names of the Dataplanes carrying a tag ({@link IndexedDataplane#tagKeys}) or label, by that key. */
  private record KeyIndex(ShardedMap<String, ShardedMap<String, Boolean>> byTag,
      ShardedMap<String, ShardedMap<String, Boolean>> byLabel) {}

  private KeyIndex keyIndex() {
    KeyIndex keys = keyIndex;
    if (keys == null) {
      Map<String, Map<String, Boolean>> tags = new HashMap<>();
      Map<String, Map<String, Boolean>> labels = new HashMap<>();
      dataplanes.forEach((name, dp) -> {
        for (String key : dp.tagKeys) {
          tags.computeIfAbsent(key, k -> new HashMap<>()).put(name, Boolean.TRUE);
        }
        for (String key : dp.labelKeys) {
          labels.computeIfAbsent(key, k -> new HashMap<>()).put(name, Boolean.TRUE);
        }
      });
      keys = new KeyIndex(freeze(tags), freeze(labels));
      keyIndex = keys; // a racing thread builds an equal one
    }
    return keys;
  }

  private static ShardedMap<String, ShardedMap<String, Boolean>> freeze(Map<String, Map<String, Boolean>> index) {
    Map<String, ShardedMap<String, Boolean>> out = new HashMap<>();
    index.forEach((key, names) -> out.put(key, ShardedMap.copyOf(names)));
    return ShardedMap.copyOf(out);
  }

  private static Set<String> withMember(Set<String> set, String name, boolean member) {
    if (set.contains(name) == member) {
      return set;
    }
    Set<String> out = new TreeSet<>(set);
    if (member) {
      out.add(name);
    } else {
      out.remove(name);
    }
    return Collections.unmodifiableSet(out);
  }

  /**
   * The endpoints of {@code service} (healthy inbounds carrying it, by Dataplane name then inbound order) and its
   * protocol (that of the first such inbound); a service only gateways carry has none and is left out.
   */
  private static void endpointsOf(String service, Map<String, IndexedDataplane> dataplanes,
      Map<String, Set<String>> carriers, Map<String, List<Endpoint>> endpoints, Map<String, String> protocols) {
    List<Endpoint> out = new ArrayList<>();
    String protocol = null;
    boolean any = false;
    for (String name : carriers.getOrDefault(service, Set.of())) {
      IndexedDataplane dp = dataplanes.get(name);
      DataplaneSpec.Networking net = dp.spec.networking();
      if (net == null || net.inbound() == null) {
        continue;
      }
      for (DataplaneSpec.Inbound in : net.inbound()) {
        if (in.tags() == null || !service.equals(in.tags().get(TargetRefs.SERVICE))) {
          continue;
        }
        any = true;
        if (protocol == null) {
          protocol = in.tags().getOrDefault("kuma.io/protocol", "tcp");
        }
        boolean ready = in.health() == null || in.health().ready() == null || in.health().ready();
        // Only healthy inbounds receive traffic; an unhealthy one is left out rather than sent with a flag.
        if (ready) {
          String address = in.address() != null ? in.address()
              : net.advertisedAddress() != null ? net.advertisedAddress() : net.address();
          out.add(Endpoint.newBuilder()
              .setAddress(address == null ? "" : address)
              .setPort(in.port() == null ? 0 : in.port())
              .putAllTags(in.tags())
              .setWeight(1)
              .setZone(in.tags().getOrDefault("kuma.io/zone", ""))
              .setHealthy(true)
              .setDataplane(name)
              .build());
        }
      }
    }
    if (any) {
      endpoints.put(service, List.copyOf(out));
      protocols.put(service, protocol);
    } else {
      endpoints.remove(service);
      protocols.remove(service);
    }
  }

  /**
   * Names of the Dataplanes whose view a change of resource {@code type} (from {@code before} to {@code after},
   * either null on create/delete) can alter, given this snapshot with the change applied; null when it can be any
   * of them (Mesh, gateways, secrets, ...). A superset: a proxy in it may end up with the same view.
   */
  public Set<String> affectedBy(ResourceType type, String name, Resource before, Resource after) {
    if (type == ResourceType.DATAPLANE) {
      Set<String> out = new HashSet<>(meshWideDataplanes);
      out.add(name);
      for (Resource r : new Resource[] {before, after}) {
        if (r != null) {
          for (String service : new IndexedDataplane(r).services) {
            out.addAll(consumersByService.getOrDefault(service, Set.of()));
          }
        }
      }
      return out;
    }
    if (PolicyPlugins.of(type).isEmpty()) {
      return null;
    }
    Set<String> out = new HashSet<>();
    if (type == ResourceType.MESH_HTTP_ROUTE || type == ResourceType.MESH_TCP_ROUTE) {
      out.addAll(builtinGateways);
    }
    for (Resource r : new Resource[] {before, after}) {
      if (r == null) {
        continue;
      }
      TargetRef top = ((PolicySpec) r.spec()).targetRef();
      if (top == null || top.kind() == TargetRef.Kind.Mesh && (top.proxyTypes() == null
          || top.proxyTypes().isEmpty())) {
        return new HashSet<>(dataplanes.keySet());
      }
      if (r == after && before != null && top.equals(((PolicySpec) before.spec()).targetRef())) {
        break; // the same proxies as before's
      }
      // The key the policy index files it under: a Dataplane without it cannot be selected, so only those with it
      // are looked at.
      String key = PolicyIndex.lookupKey(top);
      Collection<String> candidates = switch (top.kind()) {
        case MeshService, MeshServiceSubset -> top.name() == null ? dataplanes.keySet()
            : dataplanesByService.getOrDefault(top.name(), Set.of());
        case Dataplane -> top.name() != null ? List.of(top.name())
            : key == null ? dataplanes.keySet() : keyIndex().byLabel().getOrDefault(key, ShardedMap.empty()).keySet();
        case MeshSubset -> key == null ? dataplanes.keySet()
            : keyIndex().byTag().getOrDefault(key, ShardedMap.empty()).keySet();
        case MeshGateway -> builtinGateways;
        default -> dataplanes.keySet();
      };
      Map<String, String> subset = TargetRefs.peerSubset(top);
      for (String dpName : candidates) {
        IndexedDataplane dp = dataplanes.get(dpName);
        if (dp == null || key != null
            && !(top.kind() == TargetRef.Kind.MeshSubset ? dp.tagKeys : dp.labelKeys).contains(key)) {
          continue;
        }
        if (TargetRefs.selectsProxy(top, subset, proxyInfo(dp))) {
          out.add(dpName);
        }
      }
    }
    return out;
  }

  TargetRefs.ProxyInfo proxyInfo(IndexedDataplane dp) {
    DataplaneSpec.Networking net = dp.spec.networking();
    Resource gateway = ProxyViewBuilder.boundGateway(this, net);
    return new TargetRefs.ProxyInfo(dp.name(), dp.resource.meta().labels(), dp.spec,
        gateway == null ? null : gateway.name(), net != null && net.gateway() != null);
  }

  public String mesh() {
    return mesh;
  }

  /** Every Dataplane, in name order. */
  public Collection<Resource> dataplanes() {
    return byName(byType.getOrDefault(ResourceType.DATAPLANE, Map.of()).values());
  }

  public Resource dataplane(String name) {
    IndexedDataplane dp = dataplanes.get(name);
    return dp == null ? null : dp.resource;
  }

  /** Every resource of the mesh but the Mesh itself, in type then name order. */
  public List<Resource> resources() {
    List<Resource> out = new ArrayList<>();
    byType.values().forEach(m -> out.addAll(byName(m.values())));
    return out;
  }

  private static List<Resource> byName(Collection<Resource> resources) {
    List<Resource> out = new ArrayList<>(resources);
    out.sort(BY_NAME);
    return List.copyOf(out);
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
    return services;
  }

  static final Comparator<Resource> BY_NAME = Comparator.comparing(Resource::name);
}
