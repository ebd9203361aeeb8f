package io.trellis.ca.backend;

import io.trellis.api.model.MeshSpec;
import io.trellis.ca.pki.CaNames;
import java.io.IOException;

/** Turns a Mesh's {@code mtls.backends[]} entry into a loaded {@link CaBackend}. */
public class BackendFactory {
  private final BuiltinRootStore roots;
  private final DataSources dataSources;
  private final VaultBackendFactory vault;

  public BackendFactory(BuiltinRootStore roots, DataSources dataSources, VaultBackendFactory vault) {
    this.roots = roots;
    this.dataSources = dataSources;
    this.vault = vault;
  }

  /**
   * Loads the backend. {@link BackendConfigException} for configuration errors (not retried),
   * other {@link IOException}s for transient failures (retried with backoff).
   */
  public CaBackend load(String mesh, MeshSpec.Backend spec) throws IOException {
    try {
      CaNames.require("backends[].name", spec.name());
    } catch (IllegalArgumentException e) {
      throw new BackendConfigException(e.getMessage());
    }
    MeshSpec.CaType type = spec.type() == null ? MeshSpec.CaType.builtin : spec.type();
    try {
      return switch (type) {
        case builtin -> {
          MeshSpec.CaCert caCert = spec.conf() instanceof MeshSpec.BuiltinConf b ? b.caCert() : null;
          yield new LocalCaBackend(spec.name(), "builtin", roots.loadOrCreate(mesh, spec.name(), caCert));
        }
        case provided -> {
          MeshSpec.ProvidedConf conf = spec.conf() instanceof MeshSpec.ProvidedConf p ? p : null;
          try {
            yield new LocalCaBackend(spec.name(), "provided", ProvidedCa.load(mesh, conf, dataSources));
          } catch (IOException e) {
            throw new BackendConfigException(e.getMessage());
          }
        }
        case vault -> vault.create(mesh, spec.name(), spec.conf() instanceof MeshSpec.VaultConf v ? v : null, dataSources);
      };
    } catch (IllegalArgumentException e) {
      throw new BackendConfigException(e.getMessage());
    }
  }
}
