package io.trellis.policy.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.policy.v1.ProxyView;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A view's revision follows its content: any change to an outbound (endpoints, rules, listener) or to the rest
 * changes it, equal content gives an equal revision; replicas with equal outbounds share the outbound objects.
 */
class ViewRevisionTest {
  static final ResourceCodec CODEC = new ResourceCodec();

  static Resource dataplane(String name, String service, String address, int outboundPort) {
    return CODEC.read("""
        type: Dataplane
        mesh: default
        name: %s
        networking:
          address: %s
          inbound:
            - port: 8080
              tags: {kuma.io/service: %s, kuma.io/protocol: http}
          outbound:
            - {port: %d, tags: {kuma.io/service: backend}}
        """.formatted(name, address, service, outboundPort));
  }

  static Resource timeout(String idle) {
    return CODEC.read("""
        type: MeshTimeout
        mesh: default
        name: web-to-backend
        spec:
          targetRef: {kind: MeshService, name: web}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default: {idleTimeout: %s}
        """.formatted(idle));
  }

  static MeshSnapshot snapshot(Resource... extra) {
    List<Resource> all = new ArrayList<>(List.of(dataplane("web-1", "web", "10.0.0.1", 10001),
        dataplane("web-2", "web", "10.0.0.2", 10001), dataplane("backend-1", "backend", "10.0.1.1", 10001)));
    all.addAll(List.of(extra));
    return MeshSnapshot.of("default", CODEC.read("type: Mesh\nname: default\n"), all, CODEC);
  }

  static ProxyView view(MeshSnapshot snap, String name) {
    return ProxyViewBuilder.build(snap, name).orElseThrow();
  }

  @Test
  void equalContentGivesEqualRevisionsAndEveryOutboundChangeANewOne() {
    MeshSnapshot base = snapshot(timeout("10s"));
    ProxyView web1 = view(base, "web-1");
    assertThat(view(snapshot(timeout("10s")), "web-1")).isEqualTo(web1);
    assertThat(web1.getRevision()).hasSize(64);

    // rules of the outbound
    assertThat(view(snapshot(timeout("11s")), "web-1").getRevision()).isNotEqualTo(web1.getRevision());
    assertThat(view(snapshot(), "web-1").getRevision()).isNotEqualTo(web1.getRevision());
    // endpoints of the outbound: the backend moved
    MeshSnapshot moved = base.with(ResourceType.DATAPLANE, "backend-1",
        dataplane("backend-1", "backend", "10.0.9.9", 10001));
    ProxyView afterMove = view(moved, "web-1");
    assertThat(afterMove.getOutbounds(0).getEndpoints(0).getAddress()).isEqualTo("10.0.9.9");
    assertThat(afterMove.getRevision()).isNotEqualTo(web1.getRevision());
    // the listener of the outbound
    MeshSnapshot port = base.with(ResourceType.DATAPLANE, "web-1", dataplane("web-1", "web", "10.0.0.1", 10002));
    assertThat(view(port, "web-1").getRevision()).isNotEqualTo(web1.getRevision());
    // the rest of the view: the other replica differs by name and address only
    assertThat(view(base, "web-2").getRevision()).isNotEqualTo(web1.getRevision());
  }

  @Test
  void replicasWithEqualOutboundsShareThem() {
    MeshSnapshot snap = snapshot(timeout("10s"));
    ProxyView web1 = view(snap, "web-1");
    ProxyView web2 = view(snap, "web-2");
    assertThat(web1.getOutbounds(0).getRulesList()).isNotEmpty();
    assertThat(web2.getOutbounds(0)).isSameAs(web1.getOutbounds(0));
    // backend-1 calls backend with no rules: an outbound of its own
    assertThat(view(snap, "backend-1").getOutbounds(0)).isNotSameAs(web1.getOutbounds(0));
  }
}
