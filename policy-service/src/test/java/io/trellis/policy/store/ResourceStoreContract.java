package io.trellis.policy.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.fixtures.Policies;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every {@link ResourceStore} implementation must do; subclasses provide a fresh, empty store. */
abstract class ResourceStoreContract {
  abstract ResourceStore store();

  @Test
  void putThenGetReturnsTheResourceWithVersionOne() {
    Resource stored = store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    assertThat(stored.meta().version()).isEqualTo(1);
    assertThat(stored.meta().creationTime()).isNotNull();
    Resource read = store().get(ResourceType.MESH, null, "default").orElseThrow();
    assertThat(read.spec()).isEqualTo(Meshes.defaultMesh().spec());
    assertThat(read.meta().version()).isEqualTo(1);
  }

  @Test
  void eachUpdateIncrementsTheVersion() {
    store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    Resource second = store().put(Meshes.builder().builtinMtls("ca-1").build(), ResourceStore.ANY_VERSION);
    assertThat(second.meta().version()).isEqualTo(2);
    Resource third = store().put(Meshes.defaultMesh(), 2);
    assertThat(third.meta().version()).isEqualTo(3);
  }

  @Test
  void staleVersionConflicts() {
    store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    store().put(Meshes.defaultMesh(), 1);
    assertThatThrownBy(() -> store().put(Meshes.defaultMesh(), 1))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("version 1 is stale (current: 2)");
    assertThatThrownBy(() -> store().put(Meshes.defaultMesh(), ResourceStore.NEW))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("already exists");
    assertThatThrownBy(() -> store().delete(ResourceType.MESH, null, "default", 1))
        .isInstanceOf(ConflictException.class);
  }

  @Test
  void listPaginatesInNameOrderAndFiltersByLabel() {
    store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    for (int i = 0; i < 5; i++) {
      Resource dp = Dataplanes.builder().mesh("default").name("dp-" + i).service("svc").build();
      Meta meta = new Meta("default", "dp-" + i, Map.of("team", i % 2 == 0 ? "even" : "odd"), 0, null, null);
      store().put(new Resource(ResourceType.DATAPLANE, meta, dp.spec()), ResourceStore.ANY_VERSION);
    }
    ResourceStore.Page page = store().list(ResourceType.DATAPLANE, "default", Map.of(), 1, 2);
    assertThat(page.total()).isEqualTo(5);
    assertThat(page.items()).extracting(Resource::name).containsExactly("dp-1", "dp-2");
    ResourceStore.Page even = store().list(ResourceType.DATAPLANE, "default", Map.of("team", "even"), 0, 100);
    assertThat(even.items()).extracting(Resource::name).containsExactly("dp-0", "dp-2", "dp-4");
    assertThat(store().list(ResourceType.DATAPLANE, "other", Map.of(), 0, 100).total()).isZero();
  }

  @Test
  void deletingAMeshDeletesItsResourcesAndPublishesEveryDeletion() throws Exception {
    List<ChangeEvent> events = new ArrayList<>();
    try (AutoCloseable ignored = store().watch(events::add)) {
      store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
      store().put(Policies.allowAll("default"), ResourceStore.ANY_VERSION);
      assertThat(store().delete(ResourceType.MESH, null, "default", ResourceStore.ANY_VERSION)).isTrue();
    }
    assertThat(store().listAll()).isEmpty();
    assertThat(events).extracting(e -> e.type().kumaName() + (e.deleted() ? "-" : "+"))
        .containsExactly("Mesh+", "MeshTrafficPermission+", "MeshTrafficPermission-", "Mesh-");
    assertThat(events.get(1).before()).isNull();
    assertThat(store().delete(ResourceType.MESH, null, "default", ResourceStore.ANY_VERSION)).isFalse();
  }

  @Test
  void updateEventCarriesBeforeAndAfter() throws Exception {
    List<ChangeEvent> events = new ArrayList<>();
    store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    try (AutoCloseable ignored = store().watch(events::add)) {
      store().put(Meshes.builder().builtinMtls("ca-1").build(), ResourceStore.ANY_VERSION);
    }
    assertThat(events).hasSize(1);
    assertThat(events.get(0).before().meta().version()).isEqualTo(1);
    assertThat(events.get(0).after().meta().version()).isEqualTo(2);
  }
}
