package io.trellis.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;
import java.util.List;

/**
 * Mesh (old style: fields at the top level in universal, under {@code spec} on Kubernetes).
 *
 * <p>{@code logging}, {@code metrics}, {@code tracing}, {@code networking}, {@code routing}, {@code
 * meshServices} and {@code constraints} are kept as JSON: they round-trip but are not typed yet.
 */
public record MeshSpec(
    Mtls mtls,
    JsonNode logging,
    JsonNode metrics,
    JsonNode tracing,
    JsonNode networking,
    JsonNode routing,
    JsonNode meshServices,
    JsonNode constraints,
    List<String> skipCreatingInitialPolicies)
    implements Spec {

  public record Mtls(String enabledBackend, Boolean skipValidation, List<Backend> backends) {}

  public enum CaType {
    builtin,
    provided,
    vault
  }

  /**
   * A CA backend. {@code conf} is typed by {@code type}: {@link BuiltinConf}, {@link ProvidedConf}
   * or {@link VaultConf}.
   */
  @JsonDeserialize(using = BackendDeserializer.class)
  public record Backend(
      String name, CaType type, DpCert dpCert, JsonNode rootChain, String mode, CaConf conf) {}

  public record DpCert(Rotation rotation, String requestTimeout) {}

  public record Rotation(String expiration) {}

  /** Backend configuration, one record per {@link CaType}. */
  public sealed interface CaConf permits BuiltinConf, ProvidedConf, VaultConf {}

  public record BuiltinConf(CaCert caCert) implements CaConf {}

  public record CaCert(@JsonProperty("RSAbits") Integer rsaBits, String expiration) {}

  public record ProvidedConf(DataSource cert, DataSource key) implements CaConf {}

  public record VaultConf(FromCp fromCp) implements CaConf {}

  public record FromCp(
      String address,
      String agentAddress,
      String namespace,
      String pki,
      String role,
      String commonName,
      VaultTls tls,
      VaultAuth auth) {}

  public record VaultTls(
      DataSource caCert,
      Boolean skipVerify,
      DataSource clientCert,
      DataSource clientKey,
      String serverName) {}

  public record VaultAuth(
      DataSource token, VaultTlsAuth tls, JsonNode aws, VaultKubernetesAuth kubernetes) {}

  public record VaultTlsAuth(DataSource clientCert, DataSource clientKey) {}

  public record VaultKubernetesAuth(String vaultRole, String serviceAccountTokenPath) {}

  /** Wire shape of a backend before {@code conf} is typed. */
  record RawBackend(
      String name, CaType type, DpCert dpCert, JsonNode rootChain, String mode, JsonNode conf) {}

  /**
   * Types {@code conf} by {@code type}, keeping Jackson's path so errors name e.g. {@code
   * conf.caCert.RSAbits}.
   */
  static final class BackendDeserializer extends JsonDeserializer<Backend> {
    @Override
    public Backend deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      JsonNode node = ctxt.readTree(p);
      RawBackend raw = ctxt.readTreeAsValue(node, RawBackend.class);
      CaConf conf = null;
      if (raw.conf() != null && !raw.conf().isNull()) {
        Class<? extends CaConf> confClass =
            switch (raw.type() == null ? CaType.builtin : raw.type()) {
              case builtin -> BuiltinConf.class;
              case provided -> ProvidedConf.class;
              case vault -> VaultConf.class;
            };
        JsonNode confNode = raw.conf();
        try {
          conf = ctxt.readTreeAsValue(confNode, confClass);
        } catch (JsonMappingException e) {
          e.prependPath(new JsonMappingException.Reference(null, "conf"));
          throw e;
        }
      }
      return new Backend(raw.name(), raw.type(), raw.dpCert(), raw.rootChain(), raw.mode(), conf);
    }
  }
}
