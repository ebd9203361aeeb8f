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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every {@link ResourceStore} implementation must do; subclasses provide a fresh, empty store. */
public abstract class ResourceStoreContract {
  protected abstract ResourceStore store();

  /**
   * Whether versions count each resource's changes from 1 (SQL) rather than being a store-wide sequence
   * (Kubernetes resourceVersion); either way they increase on every change.
   */
  protected boolean versionsCountFromOne() {
    return true;
  }

  /** The store's spelling of a mesh-scoped resource name ({@code name.namespace} on Kubernetes). */
  protected String name(String base) {
    return base;
  }

  private Resource named(Resource r) {
    Meta m = r.meta();
    return new Resource(r.type(), new Meta(m.mesh(), name(m.name()), m.labels(), m.version(), m.creationTime(),
        m.modificationTime()), r.spec());
  }

  @Test
  void putThenGetReturnsTheResourceWithVersionOne() {
    Resource stored = store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    assertThat(stored.meta().version()).isPositive();
    if (versionsCountFromOne()) {
      assertThat(stored.meta().version()).isEqualTo(1);
    }
    assertThat(stored.meta().creationTime()).isNotNull();
    Resource read = store().get(ResourceType.MESH, null, "default").orElseThrow();
    assertThat(read.spec()).isEqualTo(Meshes.defaultMesh().spec());
    assertThat(read.meta().version()).isEqualTo(stored.meta().version());
  }

  @Test
  void eachUpdateIncrementsTheVersion() {
    Resource first = store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    Resource second = store().put(Meshes.builder().builtinMtls("ca-1").build(), ResourceStore.ANY_VERSION);
    assertThat(second.meta().version()).isGreaterThan(first.meta().version());
    Resource third = store().put(Meshes.defaultMesh(), second.meta().version());
    assertThat(third.meta().version()).isGreaterThan(second.meta().version());
    assertThat(store().get(ResourceType.MESH, null, "default").orElseThrow().meta().version())
        .isEqualTo(third.meta().version());
    if (versionsCountFromOne()) {
      assertThat(List.of(first, second, third)).extracting(r -> r.meta().version()).containsExactly(1L, 2L, 3L);
    }
  }

  @Test
  void staleVersionConflicts() {
    long v1 = store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION).meta().version();
    long v2 = store().put(Meshes.defaultMesh(), v1).meta().version();
    assertThatThrownBy(() -> store().put(Meshes.defaultMesh(), v1))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("version " + v1 + " is stale");
    assertThatThrownBy(() -> store().put(Meshes.defaultMesh(), ResourceStore.NEW))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("already exists");
    assertThatThrownBy(() -> store().delete(ResourceType.MESH, null, "default", v1))
        .isInstanceOf(ConflictException.class);
    assertThat(store().get(ResourceType.MESH, null, "default").orElseThrow().meta().version()).isEqualTo(v2);
  }

  @Test
  void listPaginatesInNameOrderAndFiltersByLabel() {
    store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
    for (int i = 0; i < 5; i++) {
      Resource dp = Dataplanes.builder().mesh("default").name("dp-" + i).service("svc").build();
      Meta meta = new Meta("default", name("dp-" + i), Map.of("team", i % 2 == 0 ? "even" : "odd"), 0, null, null);
      store().put(new Resource(ResourceType.DATAPLANE, meta, dp.spec()), ResourceStore.ANY_VERSION);
    }
    ResourceStore.Page page = store().list(ResourceType.DATAPLANE, "default", Map.of(), 1, 2);
    assertThat(page.total()).isEqualTo(5);
    assertThat(page.items()).extracting(Resource::name).containsExactly(name("dp-1"), name("dp-2"));
    ResourceStore.Page even = store().list(ResourceType.DATAPLANE, "default", Map.of("team", "even"), 0, 100);
    assertThat(even.items()).extracting(Resource::name).containsExactly(name("dp-0"), name("dp-2"), name("dp-4"));
    assertThat(store().list(ResourceType.DATAPLANE, "other", Map.of(), 0, 100).total()).isZero();
  }

  @Test
  void deletingAMeshDeletesItsResourcesAndPublishesEveryDeletion() throws Exception {
    List<ChangeEvent> events = Collections.synchronizedList(new ArrayList<>());
    try (AutoCloseable ignored = store().watch(events::add)) {
      store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION);
      store().put(named(Policies.allowAll("default")), ResourceStore.ANY_VERSION);
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
    List<ChangeEvent> events = Collections.synchronizedList(new ArrayList<>());
    long v1 = store().put(Meshes.defaultMesh(), ResourceStore.ANY_VERSION).meta().version();
    try (AutoCloseable ignored = store().watch(events::add)) {
      long v2 = store().put(Meshes.builder().builtinMtls("ca-1").build(), ResourceStore.ANY_VERSION).meta().version();
      assertThat(events).hasSize(1);
      assertThat(events.get(0).before().meta().version()).isEqualTo(v1);
      assertThat(events.get(0).after().meta().version()).isEqualTo(v2);
    }
  }
}
