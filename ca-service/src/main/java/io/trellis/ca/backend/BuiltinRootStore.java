package io.trellis.ca.backend;

import io.trellis.api.model.MeshSpec;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.CaMaterial;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where builtin roots live. Every implementation creates a root at most once per mesh and backend
 * and never replaces one that exists: concurrent first uses (a restart, a second replica) end with
 * the same root.
 */
public interface BuiltinRootStore {
  /**
   * The root of {@code backend} in {@code mesh}, created from {@code caCert} when absent. An
   * {@link IOException} is transient (retried); a stored root that cannot be used is an error, never
   * a reason to create another.
   */
  CaMaterial loadOrCreate(String mesh, String backend, MeshSpec.CaCert caCert) throws IOException;

  /** One machine: {@code <dataDir>/ca/<mesh>/<backend>/ca.pem}. */
  static BuiltinRootStore files(Path dataDir) {
    return (mesh, backend, caCert) -> BuiltinCa.loadOrCreate(dataDir.resolve("ca").resolve(mesh).resolve(backend), mesh, caCert);
  }
}
