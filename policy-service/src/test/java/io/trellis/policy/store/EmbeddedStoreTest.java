package io.trellis.policy.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Policies;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded default: H2 in file mode under the data directory. */
class EmbeddedStoreTest extends ResourceStoreContract {
  @TempDir Path dir;
  private ResourceStore store;

  @BeforeEach
  void open() {
    store = JdbcResourceStore.embedded(dir, new ResourceCodec());
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Override
  protected ResourceStore store() {
    return store;
  }

  @Test
  void aRestartKeepsEveryResource() {
    store.put(io.trellis.api.fixtures.Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    Resource written = store.put(Policies.allowAll("default"), ResourceStore.ANY_VERSION);
    store.put(Policies.allowAll("default"), ResourceStore.ANY_VERSION);
    store.close();

    store = JdbcResourceStore.embedded(dir, new ResourceCodec());
    Resource read = store.get(ResourceType.MESH_TRAFFIC_PERMISSION, "default", written.name()).orElseThrow();
    assertThat(read.spec()).isEqualTo(written.spec());
    assertThat(read.meta().version()).isEqualTo(2);
    assertThat(store.listAll()).hasSize(2);
  }
}
