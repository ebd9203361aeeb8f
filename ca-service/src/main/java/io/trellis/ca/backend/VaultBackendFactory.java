package io.trellis.ca.backend;

import io.trellis.api.model.MeshSpec;
import java.io.IOException;

/** Creates Vault backends; an interface so the registry does not depend on the HTTP client. */
public interface VaultBackendFactory {
  CaBackend create(String mesh, String backend, MeshSpec.VaultConf conf, DataSources sources) throws IOException;
}
