package io.trellis.xds.testing;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.model.Resource;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.policy.v1.Rule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds proxy views the way policy-service sends them, for translator and server tests. */
public final class Views {
  public static final ResourceCodec CODEC = new ResourceCodec();

  private Views() {}

  public static Builder of(Resource dataplane, Resource mesh) {
    return new Builder(dataplane, mesh);
  }

  public static PolicyRules rules(String type, Rule... rules) {
    return PolicyRules.newBuilder().setPolicyType(type).addAllRules(List.of(rules)).build();
  }

  /** A rule for every peer. */
  public static Rule conf(String json) {
    return Rule.newBuilder().setConfJson(json).build();
  }

  /** A rule for peers with {@code subset} tags (key, value pairs). */
  public static Rule subset(String json, String... kv) {
    Rule.Builder r = Rule.newBuilder().setConfJson(json);
    for (int i = 0; i < kv.length; i += 2) {
      r.putSubset(kv[i], kv[i + 1]);
    }
    return r.build();
  }

  public static Endpoint endpoint(String address, int port, String... tags) {
    Endpoint.Builder e = Endpoint.newBuilder().setAddress(address).setPort(port).setHealthy(true).setWeight(1);
    for (int i = 0; i < tags.length; i += 2) {
      e.putTags(tags[i], tags[i + 1]);
    }
    return e.build();
  }

  public static final class Builder {
    private final Resource dataplane;
    private final Resource mesh;
    private final Map<Integer, List<PolicyRules>> inboundRules = new LinkedHashMap<>();
    private final List<OutboundView.Builder> outbounds = new ArrayList<>();
    private final List<PolicyRules> proxyRules = new ArrayList<>();
    private long version = 1;
    private io.trellis.api.policy.v1.GatewayView gateway;

    public Builder gateway(io.trellis.api.policy.v1.GatewayView gateway) {
      this.gateway = gateway;
      return this;
    }

    Builder(Resource dataplane, Resource mesh) {
      this.dataplane = dataplane;
      this.mesh = mesh;
    }

    public Builder version(long v) {
      this.version = v;
      return this;
    }

    public Builder inboundRules(int port, PolicyRules... rules) {
      inboundRules.computeIfAbsent(port, p -> new ArrayList<>()).addAll(List.of(rules));
      return this;
    }

    public Builder outbound(String service, String protocol, String address, int port, Endpoint... endpoints) {
      outbounds.add(OutboundView.newBuilder().setService(service).setProtocol(protocol).setAddress(address)
          .setPort(port).putTags("kuma.io/service", service).addAllEndpoints(List.of(endpoints)));
      return this;
    }

    /** Rules of the last added outbound. */
    public Builder outboundRules(PolicyRules... rules) {
      outbounds.get(outbounds.size() - 1).addAllRules(List.of(rules));
      return this;
    }

    public Builder proxyRules(PolicyRules... rules) {
      proxyRules.addAll(List.of(rules));
      return this;
    }

    public ProxyView build() {
      DataplaneSpec dp = dataplane.spec(DataplaneSpec.class);
      MeshSpec m = mesh.spec(MeshSpec.class);
      boolean mtls = m.mtls() != null && m.mtls().enabledBackend() != null;
      ProxyView.Builder v = ProxyView.newBuilder()
          .setVersion(version)
          .setRevision("r" + version)
          .setMesh(dataplane.mesh())
          .setName(dataplane.name())
          .setDataplaneJson(CODEC.writeUniversalJson(dataplane))
          .setMeshJson(CODEC.writeUniversalJson(mesh))
          .setMtlsEnabled(mtls)
          .addAllProxyRules(proxyRules);
      if (dp.networking().inbound() != null) {
        for (DataplaneSpec.Inbound i : dp.networking().inbound()) {
          InboundView.Builder b = InboundView.newBuilder()
              .setAddress(i.address() != null ? i.address() : dp.networking().address())
              .setPort(i.port())
              .setServiceAddress(i.serviceAddress() != null ? i.serviceAddress() : "127.0.0.1")
              .setServicePort(i.servicePort() != null ? i.servicePort() : i.port())
              .putAllTags(i.tags())
              .setProtocol(i.tags().getOrDefault("kuma.io/protocol", "tcp"))
              .setReady(true)
              .addAllRules(inboundRules.getOrDefault(i.port(), List.of()));
          v.addInbounds(b);
        }
      }
      outbounds.forEach(o -> v.addOutbounds(o.build()));
      if (gateway != null) {
        v.setGateway(gateway);
      }
      return v.build();
    }
  }
}
