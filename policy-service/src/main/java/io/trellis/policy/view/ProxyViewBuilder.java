package io.trellis.policy.view;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.trellis.api.model.DataSource;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.ExternalServiceSpec;
import io.trellis.api.model.MeshGatewayKeyAuthSpec;
import io.trellis.api.model.MeshGatewayRouteSpec;
import io.trellis.api.model.MeshGatewaySpec;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.model.SecretSpec;
import io.trellis.api.model.Selector;
import io.trellis.api.model.TargetRef;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.api.policy.v1.GatewayListenerView;
import io.trellis.api.policy.v1.GatewayView;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.policy.v1.Rule;
import io.trellis.policy.matching.Entry;
import io.trellis.policy.matching.MergedRule;
import io.trellis.policy.matching.PolicyPlugin;
import io.trellis.policy.matching.PolicyPlugins;
import io.trellis.policy.matching.RuleBuilder;
import io.trellis.policy.matching.TargetRefs;
import io.trellis.policy.matching.TargetRefs.ProxyInfo;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Computes one proxy's view from a {@link MeshSnapshot}: a pure function (no I/O), so it is table-testable and
 * cheap to call for just the proxies a change affects. The result carries a {@code revision} (hash of the content)
 * but version 0: versions belong to the stream that serves it.
 */
public final class ProxyViewBuilder {
  static final String DEFAULT_SERVICE_ADDRESS = "127.0.0.1";
  /** Port of virtual-IP outbounds, as in Kuma (services are dialled as {@code <service>.mesh:80}). */
  static final int VIRTUAL_PORT = 80;

  private ProxyViewBuilder() {}

  public static Optional<ProxyView> build(MeshSnapshot snap, String dataplaneName) {
    IndexedDataplane dp = snap.dataplanes.get(dataplaneName);
    if (dp == null) {
      return Optional.empty();
    }
    DataplaneSpec.Networking net = dp.spec.networking();
    Resource gateway = boundGateway(snap, net);
    boolean isGateway = net != null && net.gateway() != null;
    ProxyInfo proxy = new ProxyInfo(dp.name(), dp.resource.meta().labels(), dp.spec,
        gateway == null ? null : gateway.name(), isGateway);

    ProxyView.Builder view = ProxyView.newBuilder()
        .setMesh(snap.mesh)
        .setName(dp.name())
        .setDataplaneJson(dp.json(snap.codec))
        .setMeshJson(snap.meshJson)
        .setMtlsEnabled(snap.mtlsEnabled());

    // Per policy type: the candidates the index finds for this proxy, and those of them selecting it. Policies on
    // the whole mesh select every proxy: they are taken as a set, never looped over per proxy.
    List<Matched> proxyPolicies = new ArrayList<>(PolicyPlugins.ALL.size());
    for (PolicyPlugin plugin : PolicyPlugins.ALL) {
      PolicyIndex index = snap.policies.get(plugin.type());
      if (index.isEmpty()) {
        proxyPolicies.add(new Matched(plugin, index, NONE, NONE, new BitSet()));
        continue;
      }
      int[] candidates = index.candidates(dp, proxy.gatewayName());
      PolicyIndex.IntList matching = new PolicyIndex.IntList();
      BitSet positions = (BitSet) index.unconditional.clone();
      for (int pos : candidates) {
        if (index.exact.get(pos) || index.ordered.get(pos).selectsProxy(proxy)) {
          matching.add(pos);
          positions.set(pos);
        }
      }
      proxyPolicies.add(new Matched(plugin, index, candidates, matching.sortedDistinct(), positions));
    }

    if (net != null && net.inbound() != null) {
      for (DataplaneSpec.Inbound in : net.inbound()) {
        view.addInbounds(inbound(proxy, net, in, proxyPolicies));
      }
    }
    List<SharedOutbounds.Shared> outbounds = List.of();
    if (!isGateway || net.gateway().type() == DataplaneSpec.GatewayType.DELEGATED) {
      outbounds = outbounds(snap, net, proxyPolicies, List.of());
    }
    if (gateway != null && net.gateway().type() == DataplaneSpec.GatewayType.BUILTIN) {
      GatewayView gv = gatewayView(snap, proxy, gateway, proxyPolicies);
      view.setGateway(gv);
      // A builtin gateway's clusters and endpoints are those of the services its routes point at.
      outbounds = outbounds(snap, null, proxyPolicies, routeBackends(snap, gv));
    }
    for (Matched m : proxyPolicies) {
      List<Entry> entries = new ArrayList<>();
      for (int pos : PolicyIndex.union(m.index().unconditionalWithFrom, m.matched())) {
        for (Entry entry : m.index().ordered.get(pos).from()) {
          if (entry.targetRef() == null) {
            entries.add(entry);
          }
        }
      }
      m.index().rules(entries, e -> rules(m.plugin(), e)).ifPresent(view::addProxyRules);
    }
    String revision = revision(view.build(), outbounds);
    for (SharedOutbounds.Shared out : outbounds) {
      view.addOutbounds(out.view());
    }
    return Optional.of(view.setRevision(revision).build());
  }

  private static final int[] NONE = new int[0];

  /**
   * The policies of one type for one proxy, as positions in the index's apply order: {@code candidates} the index
   * found beyond the unconditional ones, {@code matched} those of them selecting the proxy, and {@code positions}
   * every policy selecting it (unconditional ones included).
   */
  private record Matched(PolicyPlugin plugin, PolicyIndex index, int[] candidates, int[] matched,
      BitSet positions) {
    /** Every policy selecting the proxy, in apply order. */
    List<ParsedPolicy> policies() {
      List<ParsedPolicy> out = new ArrayList<>(positions.cardinality());
      for (int pos = positions.nextSetBit(0); pos >= 0; pos = positions.nextSetBit(pos + 1)) {
        out.add(index.ordered.get(pos));
      }
      return out;
    }
  }

  private static InboundView inbound(ProxyInfo proxy, DataplaneSpec.Networking net, DataplaneSpec.Inbound in,
      List<Matched> proxyPolicies) {
    Map<String, String> tags = in.tags() == null ? Map.of() : in.tags();
    int port = in.port() == null ? 0 : in.port();
    InboundView.Builder b = InboundView.newBuilder()
        .setAddress(in.address() != null ? in.address() : net.address() == null ? "" : net.address())
        .setPort(port)
        .setServiceAddress(in.serviceAddress() == null ? DEFAULT_SERVICE_ADDRESS : in.serviceAddress())
        .setServicePort(in.servicePort() == null ? port : in.servicePort())
        .putAllTags(tags)
        .setProtocol(tags.getOrDefault("kuma.io/protocol", "tcp"))
        .setReady(in.health() == null || in.health().ready() == null || in.health().ready());
    for (Matched m : proxyPolicies) {
      List<Entry> entries = new ArrayList<>();
      for (int pos : PolicyIndex.union(m.index().unconditionalWithFrom, m.candidates())) {
        ParsedPolicy p = m.index().ordered.get(pos);
        if (!p.from().isEmpty() && p.selectsInbound(proxy, in)) {
          entries.addAll(p.from());
        }
      }
      m.index().rules(entries, e -> rules(m.plugin(), e)).ifPresent(b::addRules);
    }
    return b.build();
  }

  /** Services named by the backends of a gateway's routes (MeshHTTPRoute/MeshTCPRoute backendRefs, MeshGatewayRoute destinations). */
  private static List<String> routeBackends(MeshSnapshot snap, GatewayView gv) {
    Set<String> services = new LinkedHashSet<>();
    for (String json : gv.getRouteJsonsList()) {
      try {
        collectBackends(snap.codec.jsonMapper().readTree(json), services);
      } catch (java.io.IOException e) {
        // written by the codec just before; cannot be unreadable
      }
    }
    return new ArrayList<>(services);
  }

  private static void collectBackends(com.fasterxml.jackson.databind.JsonNode node, Set<String> out) {
    if (node.isObject()) {
      node.path("backendRefs").forEach(ref -> {
        if (ref.hasNonNull("name")) {
          out.add(ref.get("name").asText());
        }
      });
      if (node.path("destination").hasNonNull(TargetRefs.SERVICE)) {
        out.add(node.path("destination").get(TargetRefs.SERVICE).asText());
      }
    }
    node.forEach(child -> collectBackends(child, out));
  }

  /** Where a proxy calls a service: the outbound's address, port and tags. */
  private record Listener(String address, int port, Map<String, String> tags) {}

  private static List<SharedOutbounds.Shared> outbounds(MeshSnapshot snap, DataplaneSpec.Networking net,
      List<Matched> proxyPolicies, List<String> gatewayBackends) {
    Map<String, Listener> byService = new LinkedHashMap<>();
    for (String service : gatewayBackends) {
      byService.put(service, new Listener("", 0, Map.of(TargetRefs.SERVICE, service)));
    }
    if (net != null && net.outbound() != null) {
      for (DataplaneSpec.Outbound out : net.outbound()) {
        Map<String, String> tags = out.tags() == null ? Map.of() : out.tags();
        String service = IndexedDataplane.outboundService(out);
        if (service == null || byService.containsKey(service)) {
          continue;
        }
        byService.put(service, new Listener(out.address() == null ? DEFAULT_SERVICE_ADDRESS : out.address(),
            out.port() == null ? 0 : out.port(), tags));
      }
    }
    if (net != null && net.transparentProxying() != null) {
      List<String> reachable = net.transparentProxying().reachableServices();
      Set<String> allowed = reachable == null || reachable.isEmpty() ? null : Set.copyOf(reachable);
      for (String service : snap.services) {
        if ((allowed == null || allowed.contains(service)) && !byService.containsKey(service)) {
          byService.put(service, new Listener(Objects.requireNonNull(snap.virtualIps.get(service), service),
              VIRTUAL_PORT, Map.of(TargetRefs.SERVICE, service)));
        }
      }
    }
    List<SharedOutbounds.Shared> result = new ArrayList<>(byService.size());
    for (Map.Entry<String, Listener> outbound : byService.entrySet()) {
      String service = outbound.getKey();
      Listener listener = outbound.getValue();
      List<Endpoint> endpoints = snap.endpointsByService.getOrDefault(service, List.of());
      String protocol = listener.tags().getOrDefault("kuma.io/protocol",
          snap.protocolByService.getOrDefault(service, "tcp"));
      List<PolicyRules> rules = new ArrayList<>(2);
      for (Matched m : proxyPolicies) {
        if (m.positions().isEmpty()) {
          continue;
        }
        // Only policies whose to[] names this service (or no service) can contribute: looked up, not scanned.
        List<Entry> entries = new ArrayList<>();
        for (int pos : m.index().toCandidates(service)) {
          if (m.positions().get(pos)) {
            entries.addAll(m.index().ordered.get(pos).toFor(service));
          }
        }
        m.index().rules(entries, e -> rules(m.plugin(), e)).ifPresent(rules::add);
      }
      Resource external = snap.externalServices.get(service);
      if (external == null) {
        result.add(snap.sharedOutbounds.get(service, listener.address(), listener.port(), listener.tags(),
            endpoints, protocol, rules));
        continue;
      }
      OutboundView.Builder b = OutboundView.newBuilder()
          .setService(service)
          .setAddress(listener.address())
          .setPort(listener.port())
          .putAllTags(listener.tags());
      b.setExternal(true).setExternalServiceJson(snap.codec.writeUniversalJson(external));
      ExternalServiceSpec.Networking en = external.spec(ExternalServiceSpec.class).networking();
      if (en != null && en.address() != null) {
        int colon = en.address().lastIndexOf(':');
        Endpoint.Builder ep = Endpoint.newBuilder().setWeight(1).setHealthy(true)
            .putAllTags(external.spec(ExternalServiceSpec.class).tags());
        if (colon > 0) {
          ep.setAddress(en.address().substring(0, colon));
          try {
            ep.setPort(Integer.parseInt(en.address().substring(colon + 1)));
          } catch (NumberFormatException ignored) {
            // validated on write; left at 0 otherwise
          }
        } else {
          ep.setAddress(en.address());
        }
        b.addEndpoints(ep);
      }
      result.add(new SharedOutbounds.Shared(b.addAllEndpoints(endpoints).setProtocol(protocol).addAllRules(rules)
          .build()));
    }
    return result;
  }

  private static GatewayView gatewayView(MeshSnapshot snap, ProxyInfo proxy, Resource gateway,
      List<Matched> proxyPolicies) {
    MeshGatewaySpec gw = gateway.spec(MeshGatewaySpec.class);
    GatewayView.Builder b = GatewayView.newBuilder().setMeshGatewayJson(snap.codec.writeUniversalJson(gateway));
    Map<String, String> gatewayTags = new HashMap<>(proxy.spec().networking().gateway().tags() == null
        ? Map.of() : proxy.spec().networking().gateway().tags());
    if (gw.tags() != null) {
      gatewayTags.putAll(gw.tags());
    }
    List<MeshGatewaySpec.Listener> listeners =
        gw.conf() == null || gw.conf().listeners() == null ? List.of() : gw.conf().listeners();
    Set<String> secretNames = new LinkedHashSet<>();
    for (MeshGatewaySpec.Listener l : listeners) {
      Map<String, String> tags = new HashMap<>(gatewayTags);
      if (l.tags() != null) {
        tags.putAll(l.tags());
      }
      GatewayListenerView.Builder lb = GatewayListenerView.newBuilder()
          .setPort(l.port() == null ? 0 : l.port())
          .setProtocol(l.protocol() == null ? "HTTP" : l.protocol().name())
          .setHostname(l.hostname() == null ? "*" : l.hostname())
          .putAllTags(l.tags() == null ? Map.of() : l.tags());
      for (Matched m : proxyPolicies) {
        List<Entry> entries = new ArrayList<>();
        for (ParsedPolicy p : m.policies()) {
          if (!sectionMatches(p.top(), l)) {
            continue;
          }
          for (Entry entry : p.to()) {
            if (entry.targetRef() == null || entry.targetRef().kind() == TargetRef.Kind.Mesh) {
              entries.add(entry);
            }
          }
        }
        m.index().rules(entries, e -> rules(m.plugin(), e)).ifPresent(lb::addRules);
      }
      b.addListeners(lb);
      if (l.tls() != null && l.tls().certificates() != null) {
        for (DataSource ds : l.tls().certificates()) {
          if (ds.secret() != null) {
            secretNames.add(ds.secret());
          }
        }
      }
      for (Resource route : snap.gatewayRoutes) {
        List<Selector> selectors = route.spec(MeshGatewayRouteSpec.class).selectors();
        if (selectors != null && selectors.stream().anyMatch(s -> TargetRefs.contains(tags, s.match()))
            && !b.getRouteJsonsList().contains(snap.codec.writeUniversalJson(route))) {
          b.addRouteJsons(snap.codec.writeUniversalJson(route));
        }
      }
    }
    Predicate<ParsedPolicy> onThisGateway = p -> p.top() != null && p.top().kind() == TargetRef.Kind.MeshGateway
        && gateway.name().equals(p.top().name());
    for (ResourceType type : List.of(ResourceType.MESH_HTTP_ROUTE, ResourceType.MESH_TCP_ROUTE)) {
      for (ParsedPolicy p : snap.policies.get(type).ordered) {
        if (onThisGateway.test(p)) {
          b.addRouteJsons(snap.codec.writeUniversalJson(p.resource()));
        }
      }
    }
    for (String name : secretNames) {
      Resource secret = snap.secrets.get(name);
      if (secret != null && secret.spec(SecretSpec.class).data() != null) {
        try {
          b.putSecrets(name, ByteString.copyFrom(Base64.getDecoder().decode(secret.spec(SecretSpec.class).data())));
        } catch (IllegalArgumentException e) {
          // validated on write; a corrupt secret is left out and the listener fails closed in xds-service
        }
      }
    }
    Resource keyAuth = null;
    for (Resource auth : snap.keyAuths) {
      if (TargetRefs.selectsProxy(((PolicySpec) auth.spec()).targetRef(), proxy)) {
        keyAuth = auth;
      }
    }
    if (keyAuth != null) {
      b.setKeyAuthJson(snap.codec.writeUniversalJson(keyAuth));
      List<MeshGatewayKeyAuthSpec.Consumer> consumers = keyAuth.spec(MeshGatewayKeyAuthSpec.class).consumers();
      if (consumers != null) {
        for (MeshGatewayKeyAuthSpec.Consumer c : consumers) {
          if (c.keys() != null) {
            for (MeshGatewayKeyAuthSpec.Key k : c.keys()) {
              if (k.secret() != null && snap.secrets.containsKey(k.secret())) {
                b.putSecrets(k.secret(), ByteString.copyFrom(Base64.getDecoder().decode(
                    snap.secrets.get(k.secret()).spec(SecretSpec.class).data())));
              }
            }
          }
        }
      }
    }
    return b.build();
  }

  private static boolean sectionMatches(TargetRef top, MeshGatewaySpec.Listener listener) {
    if (top == null || top.kind() != TargetRef.Kind.MeshGateway || top.sectionName() == null) {
      return true;
    }
    return top.sectionName().equals(String.valueOf(listener.port()));
  }

  /** The bound MeshGateway: the one whose selector matches the gateway tags with the most keys, then by name. */
  public static Resource boundGateway(MeshSnapshot snap, DataplaneSpec.Networking net) {
    if (net == null || net.gateway() == null || net.gateway().type() != DataplaneSpec.GatewayType.BUILTIN) {
      return null;
    }
    Resource best = null;
    int bestSize = -1;
    for (Resource g : snap.gateways) { // in name order
      List<Selector> selectors = g.spec(MeshGatewaySpec.class).selectors();
      if (selectors == null) {
        continue;
      }
      for (Selector s : selectors) {
        if (s.match() != null && TargetRefs.contains(net.gateway().tags(), s.match()) && s.match().size() > bestSize) {
          best = g;
          bestSize = s.match().size();
        }
      }
    }
    return best;
  }

  static Optional<PolicyRules> rules(PolicyPlugin plugin, List<Entry> entries) {
    if (entries.isEmpty()) {
      return Optional.empty();
    }
    List<Entry> sorted = RuleBuilder.sortEntries(entries, plugin.tieBreak());
    List<MergedRule> merged = RuleBuilder.build(sorted);
    if (merged.isEmpty()) {
      return Optional.empty();
    }
    PolicyRules.Builder b = PolicyRules.newBuilder().setPolicyType(plugin.type().kumaName());
    Set<String> applied = new LinkedHashSet<>();
    for (Entry e : sorted) {
      applied.add(e.policy());
    }
    b.addAllApplied(applied);
    for (MergedRule r : merged) {
      b.addRules(Rule.newBuilder().putAllSubset(r.subset()).setConfJson(r.conf().toString())
          .addAllOrigins(r.origins()));
    }
    return Optional.of(b.build());
  }

  /**
   * SHA-256 of the view's content: the deterministic serialization of {@code rest} (the view without version,
   * revision and outbounds), then that of each outbound, each part preceded by its length. The parts decode back
   * to the view, so equal revisions mean equal views as far as SHA-256 is collision-resistant; the outbounds'
   * serializations are those kept with the shared outbound views, not redone per proxy.
   */
  static String revision(ProxyView rest, List<SharedOutbounds.Shared> outbounds) {
    MessageDigest digest = sha256();
    update(digest, SharedOutbounds.deterministicBytes(rest));
    for (SharedOutbounds.Shared out : outbounds) {
      update(digest, out.bytes());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static void update(MessageDigest digest, byte[] part) {
    int n = part.length;
    digest.update(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
    digest.update(part);
  }

  private static final MessageDigest SHA_256;

  static {
    try {
      SHA_256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** A fresh SHA-256 digest: cloned from a never-used one, cheaper than a provider lookup per view. */
  private static MessageDigest sha256() {
    try {
      return (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("SHA-256 digest cannot be cloned", e);
    }
  }
}
