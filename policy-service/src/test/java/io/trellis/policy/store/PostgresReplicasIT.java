package io.trellis.policy.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.fixtures.Policies;
import io.trellis.api.model.ResourceType;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two policy-service replicas (two stores) on one real PostgreSQL: a write through one reaches the other's
 * listeners with the right before/after, including a Mesh deletion's cascade and changes made while the other's
 * LISTEN connection was down (it resyncs on reconnect).
 */
class PostgresReplicasIT {
  private String schema;
  private JdbcResourceStore a;
  private JdbcResourceStore b;
  private final List<ChangeEvent> seenByB = new CopyOnWriteArrayList<>();

  @BeforeEach
  void open() {
    PostgresStoreIT.requireServer();
    schema = "policy_rep_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    a = JdbcResourceStore.open(PostgresStoreIT.URL, PostgresStoreIT.USER, PostgresStoreIT.PASSWORD, schema, new ResourceCodec());
    b = JdbcResourceStore.open(PostgresStoreIT.URL, PostgresStoreIT.USER, PostgresStoreIT.PASSWORD, schema, new ResourceCodec());
    b.watch(seenByB::add);
  }

  @AfterEach
  void drop() throws SQLException {
    for (JdbcResourceStore s : new JdbcResourceStore[] {a, b}) {
      if (s != null) {
        s.close();
      }
    }
    try (Connection c = DriverManager.getConnection(PostgresStoreIT.URL, PostgresStoreIT.USER, PostgresStoreIT.PASSWORD);
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  private ChangeEvent awaitB(String what, Predicate<ChangeEvent> match) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      for (ChangeEvent e : seenByB) {
        if (match.test(e)) {
          return e;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("replica b never saw " + what + "; saw " + seenByB);
  }

  @Test
  void writesThroughOneReplicaReachTheOthersListenersWithBeforeAndAfter() throws Exception {
    a.put(Meshes.defaultMesh(), ResourceStore.NEW);
    ChangeEvent mesh = awaitB("the Mesh", e -> e.type() == ResourceType.MESH && e.after() != null);
    assertThat(mesh.before()).isNull();
    assertThat(mesh.after().meta().version()).isEqualTo(1);

    a.put(Policies.allowAll("default"), ResourceStore.NEW);
    ChangeEvent created = awaitB("the MTP created", e -> e.type() == ResourceType.MESH_TRAFFIC_PERMISSION && e.before() == null);
    long v1 = created.after().meta().version();
    a.put(Policies.allowAll("default"), v1);
    ChangeEvent updated = awaitB("the MTP updated",
        e -> e.type() == ResourceType.MESH_TRAFFIC_PERMISSION && e.before() != null && e.after() != null);
    assertThat(updated.before().meta().version()).isEqualTo(v1);
    assertThat(updated.after().meta().version()).isEqualTo(v1 + 1);
    assertThat(updated.mesh()).isEqualTo("default");

    // b's own write after a's: before is what b last published, and a sees it
    List<ChangeEvent> seenByA = new CopyOnWriteArrayList<>();
    a.watch(seenByA::add);
    b.put(Policies.allowAll("default"), v1 + 1);
    assertThat(seenByB).filteredOn(e -> e.after() != null && e.after().meta().version() == v1 + 2).singleElement()
        .satisfies(e -> assertThat(e.before().meta().version()).isEqualTo(v1 + 1));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (seenByA.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(seenByA).singleElement().satisfies(e -> assertThat(e.after().meta().version()).isEqualTo(v1 + 2));

    // a Mesh deletion takes its policies along on the other replica too
    a.delete(ResourceType.MESH, null, "default", ResourceStore.ANY_VERSION);
    awaitB("the MTP deleted", e -> e.type() == ResourceType.MESH_TRAFFIC_PERMISSION && e.deleted());
    awaitB("the Mesh deleted", e -> e.type() == ResourceType.MESH && e.deleted());
    assertThat(b.synced()).isTrue();
  }

  @Test
  void changesWhileTheListenConnectionWasDownArriveAfterReconnect() throws Exception {
    a.put(Meshes.defaultMesh(), ResourceStore.NEW);
    awaitB("the Mesh", e -> e.type() == ResourceType.MESH);
    // cut every change-feed connection of this schema (both replicas') on the server side
    try (Connection c = DriverManager.getConnection(PostgresStoreIT.URL, PostgresStoreIT.USER, PostgresStoreIT.PASSWORD);
        PreparedStatement s = c.prepareStatement(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE ?")) {
      s.setString(1, "trellis-feed-%" + schema + "%");
      var rs = s.executeQuery();
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(2);
    }
    a.put(Policies.allowAll("default"), ResourceStore.NEW);
    ChangeEvent created = awaitB("the MTP written while b was not listening",
        e -> e.type() == ResourceType.MESH_TRAFFIC_PERMISSION && e.after() != null);
    assertThat(created.before()).isNull();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!b.synced() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(b.synced()).isTrue();
    // and nothing twice
    assertThat(seenByB).filteredOn(e -> e.type() == ResourceType.MESH_TRAFFIC_PERMISSION).hasSize(1);
  }
}
