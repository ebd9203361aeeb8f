package io.trellis.xds.meshaccesslog;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.trellis.api.model.MeshAccessLogSpec;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.Rules;
import java.util.ArrayList;
import java.util.List;

/**
 * MeshAccessLog → access logs on HCM / tcp_proxy. File backends only; TCP and OpenTelemetry backends need
 * a cluster per collector and are not translated yet.
 */
public final class AccessLogConfigurer {
  public static final String POLICY_TYPE = "MeshAccessLog";
  /** Kuma's default plain format. */
  static final String DEFAULT_FORMAT = "[%START_TIME%] %KUMA_MESH% \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
      + "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      + "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
      + "\"%KUMA_SOURCE_SERVICE%\" \"%KUMA_DESTINATION_SERVICE%\" \"%UPSTREAM_HOST%\"\n";

  private AccessLogConfigurer() {}

  /** Access logs from the rules of a target, falling back to proxy-wide rules. */
  public static List<AccessLog> accessLogs(List<PolicyRules> targetRules, List<PolicyRules> proxyRules,
      String mesh, String source, String destination) {
    MeshAccessLogSpec.Conf conf = Rules.whole(targetRules, POLICY_TYPE, MeshAccessLogSpec.Conf.class)
        .or(() -> Rules.whole(proxyRules, POLICY_TYPE, MeshAccessLogSpec.Conf.class)).orElse(null);
    List<AccessLog> logs = new ArrayList<>();
    if (conf == null || conf.backends() == null) {
      return logs;
    }
    for (MeshAccessLogSpec.Backend b : conf.backends()) {
      if (b.file() == null) {
        continue;
      }
      FileAccessLog.Builder f = FileAccessLog.newBuilder().setPath(b.file().path());
      MeshAccessLogSpec.Format fmt = b.file().format();
      if (fmt != null && fmt.type() == MeshAccessLogSpec.FormatType.Json && fmt.json() != null) {
        Struct.Builder s = Struct.newBuilder();
        fmt.json().forEach(kv -> s.putFields(kv.key(), Value.newBuilder().setStringValue(kuma(kv.value(), mesh, source, destination)).build()));
        f.setLogFormat(SubstitutionFormatString.newBuilder().setJsonFormat(s)
            .setOmitEmptyValues(Boolean.TRUE.equals(fmt.omitEmptyValues())));
      } else {
        String plain = fmt != null && fmt.plain() != null ? fmt.plain() + "\n" : DEFAULT_FORMAT;
        f.setLogFormat(SubstitutionFormatString.newBuilder().setTextFormatSource(
            io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder().setInlineString(kuma(plain, mesh, source, destination))));
      }
      logs.add(AccessLog.newBuilder().setName("envoy.access_loggers.file").setTypedConfig(Protos.any(f.build())).build());
    }
    return logs;
  }

  /** Kuma's own placeholders are resolved here; Envoy does not know them. */
  static String kuma(String format, String mesh, String source, String destination) {
    return format.replace("%KUMA_MESH%", mesh).replace("%KUMA_SOURCE_SERVICE%", source)
        .replace("%KUMA_DESTINATION_SERVICE%", destination);
  }
}
