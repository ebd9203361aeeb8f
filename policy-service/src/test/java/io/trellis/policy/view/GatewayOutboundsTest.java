package io.trellis.policy.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.model.Resource;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.validation.Validators;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A builtin gateway's view carries, as outbounds with endpoints, exactly the services its routes point at. */
class GatewayOutboundsTest {
  static final ResourceCodec CODEC = new ResourceCodec();

  static Resource yaml(String text) {
    return Validators.requireValid(CODEC.read(text));
  }

  static final Resource GATEWAY_DP = yaml("""
      type: Dataplane
      mesh: default
      name: edge-1
      networking:
        address: 127.0.0.1
        gateway:
          type: BUILTIN
          tags: {kuma.io/service: edge}
      """);
  static final Resource MESH_GATEWAY = yaml("""
      type: MeshGateway
      mesh: default
      name: edge
      selectors:
        - match: {kuma.io/service: edge}
      conf:
        listeners:
          - port: 8080
            protocol: HTTP
      """);

  static ProxyView view(Resource... extra) {
    List<Resource> all = new java.util.ArrayList<>(List.of(GATEWAY_DP, MESH_GATEWAY,
        Dataplanes.builder().name("demo-1").address("10.0.0.1").inbound(8080, "demo-app").protocol("http").build(),
        Dataplanes.builder().name("other-1").address("10.0.0.2").inbound(8080, "other").protocol("http").build(),
        Dataplanes.builder().name("legacy-1").address("10.0.0.3").inbound(9000, "legacy").build()));
    all.addAll(List.of(extra));
    return ProxyViewBuilder.build(MeshSnapshot.of("default", Meshes.defaultMesh(), all, CODEC), "edge-1").orElseThrow();
  }

  @Test
  void meshHttpRouteBackendsBecomeOutboundsWithEndpoints() {
    ProxyView v = view(yaml("""
        type: MeshHTTPRoute
        mesh: default
        name: edge-route
        spec:
          targetRef: {kind: MeshGateway, name: edge}
          to:
            - targetRef: {kind: Mesh}
              rules:
                - matches: [{path: {type: PathPrefix, value: /}}]
                  default:
                    backendRefs: [{kind: MeshService, name: demo-app}]
        """));
    assertThat(v.getOutboundsList()).extracting(OutboundView::getService).containsExactly("demo-app");
    OutboundView demo = v.getOutbounds(0);
    assertThat(demo.getProtocol()).isEqualTo("http");
    assertThat(demo.getEndpointsList()).extracting(e -> e.getAddress() + ":" + e.getPort()).containsExactly("10.0.0.1:8080");
  }

  @Test
  void meshGatewayRouteDestinationsBecomeOutbounds() {
    ProxyView v = view(yaml("""
        type: MeshGatewayRoute
        mesh: default
        name: legacy-route
        selectors:
          - match: {kuma.io/service: edge}
        conf:
          http:
            rules:
              - matches: [{path: {match: PREFIX, value: /}}]
                backends:
                  - destination: {kuma.io/service: legacy}
        """));
    assertThat(v.getOutboundsList()).extracting(OutboundView::getService).containsExactly("legacy");
  }

  @Test
  void aGatewayWithoutRoutesHasNoOutbounds() {
    assertThat(view().getOutboundsList()).isEmpty();
  }
}
