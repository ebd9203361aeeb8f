package io.trellis.xds.meshratelimit;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.envoyproxy.envoy.type.v3.TokenBucket;
import io.trellis.api.model.MeshRateLimitSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import java.util.List;
import java.util.Optional;

/** MeshRateLimit (local) → inbound {@code envoy.filters.http.local_ratelimit} / {@code envoy.filters.network.local_ratelimit}. */
public final class RateLimitConfigurer {
  public static final String POLICY_TYPE = "MeshRateLimit";

  private RateLimitConfigurer() {}

  public static Optional<HttpFilter> httpFilter(List<PolicyRules> rules, String statPrefix) {
    MeshRateLimitSpec.Http http = Rules.whole(rules, POLICY_TYPE, MeshRateLimitSpec.Conf.class)
        .map(MeshRateLimitSpec.Conf::local).map(MeshRateLimitSpec.Local::http).orElse(null);
    if (http == null || Boolean.TRUE.equals(http.disabled()) || http.requestRate() == null) {
      return Optional.empty();
    }
    FractionalPercent all = FractionalPercent.newBuilder().setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
    LocalRateLimit.Builder b = LocalRateLimit.newBuilder()
        .setStatPrefix(statPrefix)
        .setTokenBucket(bucket(http.requestRate()))
        .setFilterEnabled(RuntimeFractionalPercent.newBuilder().setDefaultValue(all).setRuntimeKey("local_rate_limit_enabled"))
        .setFilterEnforced(RuntimeFractionalPercent.newBuilder().setDefaultValue(all).setRuntimeKey("local_rate_limit_enforced"));
    if (http.onRateLimit() != null) {
      if (http.onRateLimit().status() != null) {
        b.setStatus(HttpStatus.newBuilder().setCodeValue(http.onRateLimit().status()));
      }
      if (http.onRateLimit().headers() != null) {
        var h = http.onRateLimit().headers();
        if (h.add() != null) {
          h.add().forEach(x -> b.addResponseHeadersToAdd(HeaderValueOption.newBuilder()
              .setHeader(HeaderValue.newBuilder().setKey(x.name()).setValue(x.value()))
              .setAppendAction(HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD)));
        }
        if (h.set() != null) {
          h.set().forEach(x -> b.addResponseHeadersToAdd(HeaderValueOption.newBuilder()
              .setHeader(HeaderValue.newBuilder().setKey(x.name()).setValue(x.value()))
              .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)));
        }
      }
    } else {
      b.setStatus(HttpStatus.newBuilder().setCode(StatusCode.TooManyRequests));
    }
    return Optional.of(HttpFilter.newBuilder().setName("envoy.filters.http.local_ratelimit")
        .setTypedConfig(Protos.any(b.build())).build());
  }

  public static Optional<Filter> networkFilter(List<PolicyRules> rules, String statPrefix) {
    MeshRateLimitSpec.Tcp tcp = Rules.whole(rules, POLICY_TYPE, MeshRateLimitSpec.Conf.class)
        .map(MeshRateLimitSpec.Conf::local).map(MeshRateLimitSpec.Local::tcp).orElse(null);
    if (tcp == null || Boolean.TRUE.equals(tcp.disabled()) || tcp.connectionRate() == null) {
      return Optional.empty();
    }
    var config = io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.newBuilder()
        .setStatPrefix(statPrefix)
        .setTokenBucket(bucket(tcp.connectionRate()))
        .build();
    return Optional.of(Filter.newBuilder().setName("envoy.filters.network.local_ratelimit")
        .setTypedConfig(Protos.any(config)).build());
  }

  private static TokenBucket bucket(MeshRateLimitSpec.Rate rate) {
    int num = rate.num() == null ? 1 : rate.num();
    return TokenBucket.newBuilder()
        .setMaxTokens(num)
        .setTokensPerFill(com.google.protobuf.UInt32Value.of(num))
        .setFillInterval(Protos.duration(rate.interval() == null ? "1s" : rate.interval()))
        .build();
  }
}
