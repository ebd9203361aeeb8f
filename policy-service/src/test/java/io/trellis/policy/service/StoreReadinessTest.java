package io.trellis.policy.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Meshes;
import io.trellis.policy.store.JdbcResourceStore;
import io.trellis.policy.store.ResourceStore;
import java.util.UUID;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

/** Readiness stays DOWN until the matching cache holds everything the store has. */
class StoreReadinessTest {
  @Test
  void downUntilTheStoreIsLoadedThenUp() {
    ResourceCodec codec = new ResourceCodec();
    try (ResourceStore store = JdbcResourceStore.open(
        "jdbc:h2:mem:ready-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", null, codec)) {
      store.put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
      ResourceCache cache = new ResourceCache();
      cache.store = store;
      cache.codec = codec;
      StoreReadiness readiness = new StoreReadiness();
      readiness.cache = cache;
      readiness.store = store;
      assertThat(readiness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);

      cache.load();
      assertThat(readiness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
      assertThat(cache.snapshot("default").mtlsEnabled()).isFalse();
      assertThat(cache.list(io.trellis.api.model.ResourceType.MESH, null)).hasSize(1);
    }
  }
}
