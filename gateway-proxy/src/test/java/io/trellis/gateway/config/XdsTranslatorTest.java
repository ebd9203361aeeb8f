package io.trellis.gateway.config;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.trellis.gateway.testing.Xds;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class XdsTranslatorTest {
  static Xds.Set base(HttpFilter... filters) {
    return new Xds.Set().add(httpListener("gw", 8080, "r", filters),
        routes("r", vhost("v", List.of("*"), prefix("/", "c").build())), edsCluster("c"));
  }

  static Stream<Arguments> nacks() {
    Struct badDigest = Struct.newBuilder().putFields("consumers", Value.newBuilder().setListValue(
        com.google.protobuf.ListValue.newBuilder().addValues(Value.newBuilder().setStructValue(Struct.newBuilder()
            .putFields("username", Value.newBuilder().setStringValue("alice").build())
            .putFields("key_sha256", Value.newBuilder().setStringValue("ABC").build())))).build()).build();
    HttpFilter rbacUrl = HttpFilter.newBuilder().setName("envoy.filters.http.rbac").setTypedConfig(Any.pack(
        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(RBAC.newBuilder()
            .setAction(RBAC.Action.ALLOW).putPolicies("p", Policy.newBuilder()
                .addPermissions(Permission.newBuilder().setUrlPath(PathMatcher.getDefaultInstance()))
                .addPrincipals(Principal.newBuilder().setAny(true)).build())).build())).build();
    return Stream.of(
        Arguments.of("port 0 is refused", (Supplier<Xds.Set>) () -> new Xds.Set().add(httpListener("gw", 0, "r")),
            "Listener gw.address.socket_address.port_value: 0 (expected: 1..65535)"),
        Arguments.of("malformed key digest", (Supplier<Xds.Set>) () -> base(HttpFilter.newBuilder()
                .setName("trellis.key_auth").setTypedConfig(typedStruct(badDigest)).build()),
            "consumers[0].key_sha256: malformed (expected: 64 lowercase hex characters, the SHA-256 of the key)"),
        Arguments.of("an auth filter we cannot enforce", (Supplier<Xds.Set>) () -> base(HttpFilter.newBuilder()
                .setName("envoy.filters.http.ext_authz").build()),
            "http_filters[0].name: envoy.filters.http.ext_authz (expected: trellis.key_auth, envoy.filters.http.rbac or a non-security filter)"),
        Arguments.of("RBAC narrower than any permission", (Supplier<Xds.Set>) () -> base(rbacUrl),
            "policies[p].permissions[0]: URL_PATH (expected: any)"),
        Arguments.of("redirect routes", (Supplier<Xds.Set>) () -> new Xds.Set().add(httpListener("gw", 8080, "r"),
            routes("r", vhost("v", List.of("*"), Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRedirect(RedirectAction.newBuilder().setHostRedirect("x")).build()))),
            "RouteConfiguration r.virtual_hosts[0].routes[0].action: REDIRECT (expected: route or direct_response)"),
        Arguments.of("an outlier detection percentage above 100", (Supplier<Xds.Set>) () -> withOutlier(
                io.envoyproxy.envoy.config.cluster.v3.OutlierDetection.newBuilder()
                    .setEnforcingSuccessRate(com.google.protobuf.UInt32Value.of(101))),
            "outlier_detection.enforcing_success_rate: 101 (expected: 0..100)"),
        Arguments.of("a zero base ejection time", (Supplier<Xds.Set>) () -> withOutlier(
                io.envoyproxy.envoy.config.cluster.v3.OutlierDetection.newBuilder()
                    .setBaseEjectionTime(com.google.protobuf.Duration.getDefaultInstance())),
            "outlier_detection.base_ejection_time: 0ms (expected: a duration > 0)"));
  }

  static Xds.Set withOutlier(io.envoyproxy.envoy.config.cluster.v3.OutlierDetection.Builder o) {
    return new Xds.Set().add(httpListener("gw", 8080, "r"),
        routes("r", vhost("v", List.of("*"), prefix("/", "c").build())),
        edsCluster("c").toBuilder().setOutlierDetection(o).build());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nacks")
  void rejectsWhatItCannotHonourNamingTheField(String name, Supplier<Xds.Set> set, String message) {
    assertThatThrownBy(() -> XdsTranslator.translate(set.get().resources()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void aListenerWaitsForItsRouteConfiguration() {
    GatewayConfig cfg = XdsTranslator.translate(new Xds.Set().add(httpListener("gw", 8080, "later")).resources());
    assertThat(cfg.listeners()).isEmpty();
    assertThat(cfg.dump()).contains("route configuration later not received yet");
  }

  @Test
  void virtualHostsFollowEnvoysOrder() {
    RouteTable t = XdsTranslator.translate(new Xds.Set().add(httpListener("gw", 8080, "r"),
        routes("r",
            vhost("any", List.of("*"), prefix("/", "any").build()),
            vhost("prefix", List.of("api.*"), prefix("/", "prefix").build()),
            vhost("suffix", List.of("*.example.com"), prefix("/", "suffix").build()),
            vhost("longer-suffix", List.of("*.api.example.com"), prefix("/", "longer").build()),
            vhost("exact", List.of("api.example.com"), prefix("/", "exact").build())))
        .resources()).listeners().get("gw").chains().get(0).http().routes();
    Map<String, String> expected = Map.of("api.example.com", "exact", "x.api.example.com", "longer-suffix",
        "www.example.com", "suffix", "api.other.org", "prefix", "other.org", "any", "api.example.com:8080", "exact");
    expected.forEach((host, vh) -> assertThat(t.match(host, new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), "/")
        .vhost().name()).as(host).isEqualTo(vh));
  }

  @Test
  void keyAuthComparesDigestsAndFindsKeysInHeaderOrQuery() {
    KeyAuthSpec ka = XdsTranslator.translate(base(keyAuth(true, Map.of("alice", "k1", "bob", "k2"))).resources())
        .listeners().get("gw").chains().get(0).http().keyAuth();
    var req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x?apikey=k2&a=b");
    assertThat(ka.authenticate(req).username()).isEqualTo("bob");
    ka.strip(req);
    assertThat(req.uri()).isEqualTo("/x?a=b");
    var header = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
    header.headers().set("ApiKey", "k1");
    assertThat(ka.authenticate(header).username()).isEqualTo("alice");
    header.headers().set("apikey", "k3");
    assertThat(ka.authenticate(header)).isEqualTo(new KeyAuthSpec.Result(true, null));
  }
}
