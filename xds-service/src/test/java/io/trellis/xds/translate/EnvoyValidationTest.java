package io.trellis.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reflective protoc-gen-validate check catches what Envoy would NACK, including inside typed_config
 * (the golden tests run it on every generated resource set; here it must fail on broken resources).
 */
class EnvoyValidationTest {
  static Stream<Arguments> invalid() {
    return Stream.of(
        c("cluster without a name", "Cluster.name", () -> Cluster.newBuilder().build()),
        c("negative connect timeout", "Cluster.connect_timeout", () -> Cluster.newBuilder().setName("c")
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(-1)).build()),
        c("port above 65535", "port_value", () -> ClusterLoadAssignment.newBuilder().setClusterName("c")
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                    .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                        .setAddress("10.0.0.1").setPortValue(70000)))))).build()),
        c("endpoint weight 0", "load_balancing_weight", () -> ClusterLoadAssignment.newBuilder().setClusterName("c")
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setLoadBalancingWeight(UInt32Value.of(0)))).build()),
        c("virtual host without domains", "domains", () -> RouteConfiguration.newBuilder().setName("r")
            .addVirtualHosts(VirtualHost.newBuilder().setName("vh")).build()),
        c("tcp_proxy without stat_prefix inside typed_config", "<TcpProxy>.stat_prefix", () -> Listener.newBuilder().setName("l")
            .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy")
                .setTypedConfig(Protos.any(TcpProxy.newBuilder().setCluster("c").build())))).build()),
        c("HCM without route specifier", "route_specifier", () -> Listener.newBuilder().setName("l")
            .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                .setTypedConfig(Protos.any(HttpConnectionManager.newBuilder().setStatPrefix("s").build())))).build()),
        c("typed_config of a type Envoy does not know", "expected: a type Envoy knows", () -> Listener.newBuilder().setName("l")
            .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("x")
                .setTypedConfig(com.google.protobuf.Any.pack(io.trellis.api.policy.v1.ProxyRef.getDefaultInstance())))).build()));
  }

  static Arguments c(String name, String expected, Supplier<Message> message) {
    return Arguments.of(name, expected, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void refuses(String name, String expected, Supplier<Message> message) {
    assertThat(EnvoyValidation.violations(message.get())).as(name).anySatisfy(v -> assertThat(v).contains(expected));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void accepts(String name, Supplier<Message> message) {
    assertThat(EnvoyValidation.violations(message.get())).isEmpty();
  }

  static Stream<Arguments> valid() {
    return Stream.of(
        Arguments.of("EDS cluster", (Supplier<Message>) () -> Cluster.newBuilder().setName("c")
            .setType(Cluster.DiscoveryType.EDS).setConnectTimeout(Protos.seconds(1))
            .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(Protos.ads())).build()),
        Arguments.of("tcp_proxy listener", (Supplier<Message>) () -> Listener.newBuilder().setName("l")
            .setAddress(Protos.address("0.0.0.0", 80))
            .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy")
                .setTypedConfig(Protos.any(TcpProxy.newBuilder().setStatPrefix("s").setCluster("c").build())))).build()));
  }
}
