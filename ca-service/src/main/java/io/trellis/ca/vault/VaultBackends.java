package io.trellis.ca.vault;

import io.trellis.api.model.MeshSpec;
import io.trellis.ca.CaMetrics;
import io.trellis.ca.backend.BackendConfigException;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.DataSources;
import io.trellis.ca.backend.VaultBackendFactory;
import java.io.IOException;
import java.time.Duration;

/** Creates Vault PKI backends. */
public final class VaultBackends implements VaultBackendFactory {
  private final Duration timeout;
  private final CaMetrics metrics;

  public VaultBackends(Duration timeout, CaMetrics metrics) {
    this.timeout = timeout;
    this.metrics = metrics;
  }

  @Override
  public CaBackend create(String mesh, String backend, MeshSpec.VaultConf conf, DataSources sources) throws IOException {
    throw new BackendConfigException("vault backends are not supported yet");
  }
}
