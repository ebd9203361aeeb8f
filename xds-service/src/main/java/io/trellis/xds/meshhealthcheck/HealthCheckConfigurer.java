package io.trellis.xds.meshhealthcheck;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.type.v3.Int64Range;
import io.trellis.api.model.MeshHealthCheckSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import java.util.List;

/** MeshHealthCheck → active health checks on the destination's cluster (HTTP, gRPC or TCP by protocol). */
public final class HealthCheckConfigurer {
  public static final String POLICY_TYPE = "MeshHealthCheck";

  private HealthCheckConfigurer() {}

  public static void apply(Cluster.Builder cluster, List<PolicyRules> rules, String protocol) {
    MeshHealthCheckSpec.Conf c = Rules.whole(rules, POLICY_TYPE, MeshHealthCheckSpec.Conf.class).orElse(null);
    if (c == null) {
      return;
    }
    HealthCheck.Builder hc = HealthCheck.newBuilder()
        .setInterval(Protos.duration(c.interval() == null ? "1m" : c.interval()))
        .setTimeout(Protos.duration(c.timeout() == null ? "15s" : c.timeout()))
        .setUnhealthyThreshold(UInt32Value.of(c.unhealthyThreshold() == null ? 5 : c.unhealthyThreshold()))
        .setHealthyThreshold(UInt32Value.of(c.healthyThreshold() == null ? 1 : c.healthyThreshold()));
    if (c.initialJitter() != null) {
      hc.setInitialJitter(Protos.duration(c.initialJitter()));
    }
    if (c.intervalJitter() != null) {
      hc.setIntervalJitter(Protos.duration(c.intervalJitter()));
    }
    if (c.intervalJitterPercent() != null) {
      hc.setIntervalJitterPercent(c.intervalJitterPercent());
    }
    if (c.noTrafficInterval() != null) {
      hc.setNoTrafficInterval(Protos.duration(c.noTrafficInterval()));
    }
    if (c.reuseConnection() != null) {
      hc.setReuseConnection(com.google.protobuf.BoolValue.of(c.reuseConnection()));
    }
    if (c.alwaysLogHealthCheckFailures() != null) {
      hc.setAlwaysLogHealthCheckFailures(c.alwaysLogHealthCheckFailures());
    }
    boolean http = "http".equals(protocol) || "http2".equals(protocol);
    if ("grpc".equals(protocol) && (c.grpc() == null || !Boolean.TRUE.equals(c.grpc().disabled()))) {
      HealthCheck.GrpcHealthCheck.Builder g = HealthCheck.GrpcHealthCheck.newBuilder();
      if (c.grpc() != null && c.grpc().serviceName() != null) {
        g.setServiceName(c.grpc().serviceName());
      }
      if (c.grpc() != null && c.grpc().authority() != null) {
        g.setAuthority(c.grpc().authority());
      }
      hc.setGrpcHealthCheck(g);
    } else if (http && (c.http() == null || !Boolean.TRUE.equals(c.http().disabled()))) {
      HealthCheck.HttpHealthCheck.Builder h = HealthCheck.HttpHealthCheck.newBuilder()
          .setPath(c.http() == null || c.http().path() == null ? "/" : c.http().path());
      if (c.http() != null && c.http().expectedStatuses() != null) {
        for (int s : c.http().expectedStatuses()) {
          h.addExpectedStatuses(Int64Range.newBuilder().setStart(s).setEnd(s + 1L));
        }
      }
      hc.setHttpHealthCheck(h);
    } else if (c.tcp() == null || !Boolean.TRUE.equals(c.tcp().disabled())) {
      HealthCheck.TcpHealthCheck.Builder t = HealthCheck.TcpHealthCheck.newBuilder();
      if (c.tcp() != null && c.tcp().send() != null) {
        t.setSend(HealthCheck.Payload.newBuilder().setText(hex(c.tcp().send())));
      }
      if (c.tcp() != null && c.tcp().receive() != null) {
        c.tcp().receive().forEach(r -> t.addReceive(HealthCheck.Payload.newBuilder().setText(hex(r))));
      }
      hc.setTcpHealthCheck(t);
    } else {
      return;
    }
    cluster.addHealthChecks(hc);
  }

  /** Kuma's send/receive are base64; Envoy's text payloads are hex. */
  private static String hex(String base64) {
    return java.util.HexFormat.of().formatHex(java.util.Base64.getDecoder().decode(base64));
  }
}
