package io.trellis.xds.gateway;

import com.github.xds.type.v3.TypedStruct;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.trellis.api.model.MeshGatewayKeyAuthSpec;
import io.trellis.xds.translate.Protos;
import io.trellis.xds.translate.TranslationException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * MeshGatewayKeyAuth → the {@code trellis.key_auth} HTTP filter (contract with gateway-proxy): a
 * {@code xds.type.v3.TypedStruct} of type {@code trellis.gateway.v1.KeyAuth}. Keys only travel as SHA-256.
 * Present on an HCM = a key is required on every route of it; a route opts out with
 * {@link #disabledPerRoute()} under {@code typed_per_filter_config["trellis.key_auth"]}.
 */
public final class KeyAuthConfigurer {
  public static final String FILTER = "trellis.key_auth";
  public static final String TYPE_URL = "type.googleapis.com/trellis.gateway.v1.KeyAuth";

  private KeyAuthConfigurer() {}

  /** @param secrets the gateway view's Secrets (name → data) for keys given as Secret references */
  public static HttpFilter filter(MeshGatewayKeyAuthSpec spec, Map<String, byte[]> secrets) {
    MeshGatewayKeyAuthSpec.Conf conf = spec.conf() != null ? spec.conf()
        : new MeshGatewayKeyAuthSpec.Conf(null, null, null, null, null, null);
    ListValue.Builder names = ListValue.newBuilder();
    conf.effectiveKeyNames().forEach(n -> names.addValues(Value.newBuilder().setStringValue(n)));
    ListValue.Builder consumers = ListValue.newBuilder();
    if (spec.consumers() != null) {
      for (MeshGatewayKeyAuthSpec.Consumer c : spec.consumers()) {
        if (c.keys() == null) {
          continue;
        }
        for (MeshGatewayKeyAuthSpec.Key k : c.keys()) {
          consumers.addValues(Value.newBuilder().setStructValue(Struct.newBuilder()
              .putFields("username", Value.newBuilder().setStringValue(c.username()).build())
              .putFields("key_sha256", Value.newBuilder().setStringValue(sha256(k, secrets)).build())));
        }
      }
    }
    Struct value = Struct.newBuilder()
        .putFields("key_names", Value.newBuilder().setListValue(names).build())
        .putFields("key_in_header", Value.newBuilder().setBoolValue(conf.effectiveKeyInHeader()).build())
        .putFields("key_in_query", Value.newBuilder().setBoolValue(conf.effectiveKeyInQuery()).build())
        .putFields("hide_credentials", Value.newBuilder().setBoolValue(conf.effectiveHideCredentials()).build())
        .putFields("consumers", Value.newBuilder().setListValue(consumers).build())
        .build();
    return HttpFilter.newBuilder().setName(FILTER)
        .setTypedConfig(Protos.any(TypedStruct.newBuilder().setTypeUrl(TYPE_URL).setValue(value).build()))
        .build();
  }

  /** The per-route opt-out. */
  public static com.google.protobuf.Any disabledPerRoute() {
    return Protos.any(TypedStruct.newBuilder().setTypeUrl(TYPE_URL)
        .setValue(Struct.newBuilder().putFields("disabled", Value.newBuilder().setBoolValue(true).build())).build());
  }

  private static String sha256(MeshGatewayKeyAuthSpec.Key k, Map<String, byte[]> secrets) {
    if (k.sha256() != null) {
      if (!k.sha256().matches("[0-9a-f]{64}")) {
        throw new TranslationException("consumers[].keys[].sha256: " + k.sha256() + " (expected: 64 lowercase hex digits)");
      }
      return k.sha256();
    }
    byte[] data = k.secret() == null ? null : secrets.get(k.secret());
    if (data == null) {
      // Fail closed: the view is not translated (the gateway keeps its previous config) rather than
      // dropping the consumer silently or serving key-auth without its keys.
      throw new TranslationException("consumers[].keys[].secret: " + k.secret() + " (expected: a Secret referenced by the gateway view)");
    }
    return MeshGatewayKeyAuthSpec.sha256Hex(new String(data, StandardCharsets.UTF_8).trim());
  }
}
