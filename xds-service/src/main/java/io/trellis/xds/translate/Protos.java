package io.trellis.xds.translate;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.trellis.api.model.Durations;

/** Small builders for Envoy protos used by several translators. */
public final class Protos {
  private Protos() {}

  public static Any any(Message message) {
    return Any.pack(message);
  }

  public static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  /** Resources of the same ADS stream (EDS, RDS, SDS all come over ADS). */
  public static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  /** A Kuma duration string as a protobuf Duration. */
  public static Duration duration(String kuma) {
    return duration(Durations.parse(kuma));
  }

  public static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  public static Duration seconds(long s) {
    return Duration.newBuilder().setSeconds(s).build();
  }
}
