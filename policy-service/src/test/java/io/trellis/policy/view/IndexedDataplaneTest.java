package io.trellis.policy.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The one-pass JSON of a Dataplane is the codec's universal JSON, character for character. */
class IndexedDataplaneTest {
  static final ResourceCodec CODEC = new ResourceCodec();

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      """
      type: Dataplane
      mesh: default
      name: minimal
      networking:
        address: 10.0.0.1
      """,
      """
      type: Dataplane
      mesh: default
      name: "sidecar \\"quoted\\" é ☃"
      labels: {team: "t1 \\u00e9", zone: z, "a/b": "x\\ty"}
      networking:
        address: 10.0.0.1
        advertisedAddress: 192.168.0.1
        inbound:
          - port: 8080
            servicePort: 80
            name: http
            tags: {kuma.io/service: svc, version: v1, kuma.io/protocol: http}
            health: {ready: false}
        outbound:
          - {port: 10001, tags: {kuma.io/service: other}}
          - {port: 10002, address: 127.0.0.2, tags: {kuma.io/service: third, version: v2}}
        transparentProxying:
          redirectPortInbound: 15006
          redirectPortOutbound: 15001
          reachableServices: [other, third]
      metrics:
        type: prometheus
        conf: {port: 5670, path: /metrics, ratio: 0.25, tags: [a, b], nested: {deep: null}}
      probes:
        port: 9000
      """,
      """
      type: Dataplane
      mesh: edge
      name: gw-1
      networking:
        address: 10.0.0.9
        gateway:
          type: BUILTIN
          tags: {kuma.io/service: edge-gateway}
      """})
  void oneDataplaneWrittenInOnePassIsTheCodecsUniversalJson(String yaml) {
    Resource dp = CODEC.read(yaml);
    assertThat(IndexedDataplane.universalJson(CODEC, dp)).isEqualTo(CODEC.writeUniversalJson(dp));
    // with the store's metadata (version, times) as well
    Map<String, String> labels = new LinkedHashMap<>(dp.meta().labels());
    Meta meta = new Meta(dp.meta().mesh(), dp.name(), labels, 7, Instant.parse("2026-11-23T10:15:30.123Z"),
        Instant.parse("2026-11-23T11:00:00Z"));
    Resource stored = new Resource(dp.type(), meta, dp.spec());
    assertThat(IndexedDataplane.universalJson(CODEC, stored)).isEqualTo(CODEC.writeUniversalJson(stored));
  }
}
