package io.trellis.xds.meshretry;

import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.trellis.api.model.MeshRetrySpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import io.trellis.xds.translate.TranslationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** MeshRetry → route retry policy (HTTP / gRPC by the outbound's protocol) and tcp_proxy connect attempts. */
public final class RetryConfigurer {
  public static final String POLICY_TYPE = "MeshRetry";

  private RetryConfigurer() {}

  public static Optional<MeshRetrySpec.Conf> conf(List<PolicyRules> rules) {
    return Rules.whole(rules, POLICY_TYPE, MeshRetrySpec.Conf.class);
  }

  /** The route retry policy for an outbound of {@code protocol}, if the conf has one for it. */
  public static Optional<RetryPolicy> retryPolicy(List<PolicyRules> rules, String protocol) {
    MeshRetrySpec.Conf conf = conf(rules).orElse(null);
    if (conf == null) {
      return Optional.empty();
    }
    RetryPolicy.Builder b = RetryPolicy.newBuilder();
    if ("grpc".equals(protocol) && conf.grpc() != null) {
      MeshRetrySpec.Grpc g = conf.grpc();
      if (g.numRetries() != null) {
        b.setNumRetries(com.google.protobuf.UInt32Value.of(g.numRetries()));
      }
      if (g.perTryTimeout() != null) {
        b.setPerTryTimeout(Protos.duration(g.perTryTimeout()));
      }
      backOff(b, g.backOff());
      List<String> on = g.retryOn() == null ? List.of("cancelled", "connect-failure", "refused-stream",
          "resource-exhausted", "unavailable") : g.retryOn().stream().map(RetryConfigurer::grpcOn).toList();
      b.setRetryOn(String.join(",", on));
      return Optional.of(b.build());
    }
    MeshRetrySpec.Http h = conf.http();
    if (h == null) {
      return Optional.empty();
    }
    if (h.numRetries() != null) {
      b.setNumRetries(com.google.protobuf.UInt32Value.of(h.numRetries()));
    }
    if (h.perTryTimeout() != null) {
      b.setPerTryTimeout(Protos.duration(h.perTryTimeout()));
    }
    backOff(b, h.backOff());
    List<String> on = new ArrayList<>();
    for (String value : h.retryOn() == null ? List.of("5XX", "GatewayError", "Reset", "Retriable4xx",
        "ConnectFailure", "EnvoyRatelimited", "RefusedStream") : h.retryOn()) {
      if (value.matches("\\d{3}")) {
        b.addRetriableStatusCodes(Integer.parseInt(value));
        if (!on.contains("retriable-status-codes")) {
          on.add("retriable-status-codes");
        }
      } else {
        on.add(httpOn(value));
      }
    }
    b.setRetryOn(String.join(",", on));
    return Optional.of(b.build());
  }

  public static void applyToTcpProxy(TcpProxy.Builder tcp, List<PolicyRules> rules) {
    conf(rules).map(MeshRetrySpec.Conf::tcp).map(MeshRetrySpec.Tcp::maxConnectAttempt)
        .ifPresent(n -> tcp.setMaxConnectAttempts(com.google.protobuf.UInt32Value.of(n)));
  }

  private static void backOff(RetryPolicy.Builder b, MeshRetrySpec.BackOff backOff) {
    if (backOff == null || backOff.baseInterval() == null) {
      return;
    }
    RetryPolicy.RetryBackOff.Builder r = RetryPolicy.RetryBackOff.newBuilder()
        .setBaseInterval(Protos.duration(backOff.baseInterval()));
    if (backOff.maxInterval() != null) {
      r.setMaxInterval(Protos.duration(backOff.maxInterval()));
    }
    b.setRetryBackOff(r);
  }

  static String httpOn(String kuma) {
    return switch (kuma) {
      case "5XX", "5xx" -> "5xx";
      case "GatewayError" -> "gateway-error";
      case "Reset" -> "reset";
      case "Retriable4xx" -> "retriable-4xx";
      case "ConnectFailure" -> "connect-failure";
      case "EnvoyRatelimited" -> "envoy-ratelimited";
      case "RefusedStream" -> "refused-stream";
      case "Http3PostConnectFailure" -> "http3-post-connect-failure";
      case "HttpMethodConnect", "HttpMethodDelete", "HttpMethodGet", "HttpMethodHead", "HttpMethodOptions",
          "HttpMethodPatch", "HttpMethodPost", "HttpMethodPut", "HttpMethodTrace" ->
          throw new TranslationException("retryOn: " + kuma + " (expected: retry conditions; HTTP methods are not supported yet)");
      default -> throw new TranslationException("retryOn: " + kuma
          + " (expected: 5XX, GatewayError, Reset, Retriable4xx, ConnectFailure, EnvoyRatelimited, RefusedStream, Http3PostConnectFailure or a status code)");
    };
  }

  static String grpcOn(String kuma) {
    return switch (kuma) {
      case "Canceled" -> "cancelled";
      case "DeadlineExceeded" -> "deadline-exceeded";
      case "Internal" -> "internal";
      case "ResourceExhausted" -> "resource-exhausted";
      case "Unavailable" -> "unavailable";
      default -> throw new TranslationException("grpc.retryOn: " + kuma
          + " (expected: Canceled, DeadlineExceeded, Internal, ResourceExhausted or Unavailable)");
    };
  }

}
