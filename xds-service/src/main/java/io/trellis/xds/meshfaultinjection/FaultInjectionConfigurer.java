package io.trellis.xds.meshfaultinjection;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.trellis.api.model.MeshFaultInjectionSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import io.trellis.xds.translate.TranslationException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** MeshFaultInjection → one {@code envoy.filters.http.fault} per {@code http[]} entry on the inbound. */
public final class FaultInjectionConfigurer {
  public static final String POLICY_TYPE = "MeshFaultInjection";

  private FaultInjectionConfigurer() {}

  public static List<HttpFilter> httpFilters(List<PolicyRules> rules) {
    MeshFaultInjectionSpec.Conf conf = Rules.whole(rules, POLICY_TYPE, MeshFaultInjectionSpec.Conf.class).orElse(null);
    List<HttpFilter> filters = new ArrayList<>();
    if (conf == null || conf.http() == null) {
      return filters;
    }
    for (MeshFaultInjectionSpec.Http h : conf.http()) {
      HTTPFault.Builder f = HTTPFault.newBuilder();
      if (h.abort() != null) {
        f.setAbort(FaultAbort.newBuilder().setHttpStatus(h.abort().httpStatus()).setPercentage(percent(h.abort().percentage())));
      }
      if (h.delay() != null) {
        f.setDelay(FaultDelay.newBuilder().setFixedDelay(Protos.duration(h.delay().value()))
            .setPercentage(percent(h.delay().percentage())));
      }
      if (h.responseBandwidth() != null) {
        f.setResponseRateLimit(io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultRateLimit.newBuilder()
            .setFixedLimit(io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultRateLimit.FixedLimit.newBuilder()
                .setLimitKbps(kbps(h.responseBandwidth().limit())))
            .setPercentage(percent(h.responseBandwidth().percentage())));
      }
      filters.add(HttpFilter.newBuilder().setName("envoy.filters.http.fault").setTypedConfig(Protos.any(f.build())).build());
    }
    return filters;
  }

  /** Kuma percentages are 0..100 with decimals ("50.5"); Envoy's fraction is per million for precision. */
  static FractionalPercent percent(JsonNode p) {
    if (p == null || p.isNull()) {
      return FractionalPercent.newBuilder().setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
    }
    BigDecimal value = new BigDecimal(p.asText());
    if (value.signum() < 0 || value.compareTo(BigDecimal.valueOf(100)) > 0) {
      throw new TranslationException("percentage: " + p.asText() + " (expected: 0..100)");
    }
    return FractionalPercent.newBuilder()
        .setNumerator(value.multiply(BigDecimal.valueOf(10_000)).intValue())
        .setDenominator(FractionalPercent.DenominatorType.MILLION).build();
  }

  /** "1kbps", "10mbps", "1gbps" → kbit/s. */
  static long kbps(String limit) {
    var m = java.util.regex.Pattern.compile("(\\d+)\\s*(kbps|mbps|gbps)").matcher(limit == null ? "" : limit);
    if (!m.matches()) {
      throw new TranslationException("responseBandwidth.limit: " + limit + " (expected: like 50kbps, 10mbps, 1gbps)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "kbps" -> n;
      case "mbps" -> n * 1000;
      default -> n * 1_000_000;
    };
  }
}
