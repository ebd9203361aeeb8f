package io.trellis.policy.store;

import io.trellis.api.codec.ResourceCodec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The store against a real PostgreSQL server (TRELLIS_TEST_PG_URL/USER/PASSWORD). Each test gets its own schema so
 * that concurrent builds sharing the server never see each other's rows. Skips only when no server is reachable and
 * TRELLIS_REQUIRE_PG is not 1 (CI sets it, so CI fails instead of skipping).
 */
class PostgresStoreIT extends ResourceStoreContract {
  static final String URL = env("TRELLIS_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/trellis");
  static final String USER = env("TRELLIS_TEST_PG_USER", "trellis");
  static final String PASSWORD = env("TRELLIS_TEST_PG_PASSWORD", "trellis");

  private String schema;
  private ResourceStore store;

  static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  static void requireServer() {
    try (Connection ignored = DriverManager.getConnection(URL, USER, PASSWORD)) {
      // reachable
    } catch (SQLException e) {
      if ("1".equals(System.getenv("TRELLIS_REQUIRE_PG"))) {
        throw new AssertionError("PostgreSQL required (TRELLIS_REQUIRE_PG=1) but " + URL + " is not reachable", e);
      }
      Assumptions.abort("PostgreSQL not reachable at " + URL + " (" + e.getMessage()
          + "); set TRELLIS_TEST_PG_URL/USER/PASSWORD to run this test");
    }
  }

  @BeforeEach
  void open() {
    requireServer();
    schema = "policy_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    store = JdbcResourceStore.open(URL, USER, PASSWORD, schema, new ResourceCodec());
  }

  @AfterEach
  void drop() throws SQLException {
    if (store != null) {
      store.close();
    }
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  @Override
  protected ResourceStore store() {
    return store;
  }
}
