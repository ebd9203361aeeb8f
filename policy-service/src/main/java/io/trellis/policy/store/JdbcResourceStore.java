package io.trellis.policy.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.model.Spec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;

/**
 * The one SQL implementation of {@link ResourceStore}, used for the embedded default (H2 in file mode) and for
 * PostgreSQL: same schema, same statements, Flyway migrations. Writes are serialised per store instance so that
 * change events are published in commit order; optimistic concurrency is enforced by the database
 * ({@code UPDATE ... WHERE version = ?}), so several instances on one PostgreSQL stay correct.
 *
 * <p>On PostgreSQL several policy-service replicas share the database: each write also notifies the other
 * replicas ({@link PostgresChangeFeed}), which re-read the changed rows and publish the same change events to
 * their own listeners, with {@code before} being what that replica last published. The store therefore remembers
 * the last state it published per resource (PostgreSQL only).
 */
public final class JdbcResourceStore implements ResourceStore {
  /** Kept apart from other services' Flyway tables: ca-service may share the database. */
  static final String HISTORY_TABLE = "trellis_policy_schema_history";

  private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {};

  private final AgroalDataSource dataSource;
  private final ResourceCodec codec;
  private final ObjectMapper json;
  private final List<Consumer<ChangeEvent>> listeners = new CopyOnWriteArrayList<>();
  private final Object writeLock = new Object();
  /** PostgreSQL only: the last state published per resource (what this replica's listeners have seen). */
  private final Map<Key, Resource> known;
  private final String channel;
  private PostgresChangeFeed feed;

  private record Key(ResourceType type, String mesh, String name) {
    static Key of(Resource r) {
      return new Key(r.type(), meshKey(r.type(), r.mesh()), r.name());
    }

    String payload() {
      return type.kumaName() + "\n" + mesh + "\n" + name;
    }

    static Key parse(String payload) {
      String[] parts = payload.split("\n", -1);
      if (parts.length != 3) {
        return null;
      }
      return ResourceType.fromName(parts[0]).map(t -> new Key(t, parts[1], parts[2])).orElse(null);
    }
  }

  private JdbcResourceStore(AgroalDataSource dataSource, ResourceCodec codec, String schema, boolean postgres) {
    this.dataSource = dataSource;
    this.codec = codec;
    this.json = codec.jsonMapper();
    this.known = postgres ? new java.util.concurrent.ConcurrentHashMap<>() : null;
    this.channel = postgres ? "trellis_resources" + (schema == null ? "" : "_" + schema) : null;
    var flyway = Flyway.configure()
        .dataSource(dataSource)
        .table(HISTORY_TABLE)
        .locations(new String[0])
        .javaMigrations(new SqlMigration("1", "resources", "/db/policy/V1__resources.sql"))
        .baselineOnMigrate(true)
        .baselineVersion("0");
    if (schema != null) {
      flyway.schemas(schema).defaultSchema(schema).createSchemas(true);
    }
    flyway.load().migrate();
  }

  /**
   * PostgreSQL: LISTEN first, then remember the current state, so no commit falls between the two. Under the
   * write lock, so notifications that arrive meanwhile are reconciled against the complete state, never against a
   * half-filled one.
   */
  private void followOtherReplicas(String url, String user, String password) throws SQLException {
    String app = "trellis-feed-" + channel;
    synchronized (writeLock) {
      feed = new PostgresChangeFeed(url, user, password, channel, app.substring(0, Math.min(63, app.length())),
          this::reconcile, this::resync);
      for (Resource r : listAll()) {
        known.put(Key.of(r), r);
      }
    }
  }

  /** The embedded default: an H2 database file under {@code dir}, surviving restarts. */
  public static JdbcResourceStore embedded(Path dir, ResourceCodec codec) {
    Path file = dir.toAbsolutePath().resolve("policy-store");
    return open("jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE", "sa", "", null, codec);
  }

  /**
   * Any JDBC URL (H2 or PostgreSQL).
   *
   * @param schema null for the connection's default schema
   */
  public static JdbcResourceStore open(String url, String user, String password, String schema, ResourceCodec codec) {
    requireNonNull(url, "url");
    try {
      AgroalDataSource ds = AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
          .connectionPoolConfiguration(pool -> pool
              .minSize(0)
              .maxSize(8)
              .acquisitionTimeout(Duration.ofSeconds(10))
              .connectionFactoryConfiguration(factory -> {
                factory.jdbcUrl(url).principal(new NamePrincipal(user)).credential(new SimplePassword(password));
                // Named explicitly: DriverManager lookups depend on the calling class loader, which differs
                // between Quarkus' class loaders and plain JUnit in one JVM.
                factory.connectionProviderClass(url.startsWith("jdbc:h2:") ? org.h2.Driver.class
                    : org.postgresql.Driver.class);
                if (schema != null) {
                  factory.initialSql("SET SCHEMA '" + schema.replace("'", "") + "'");
                }
                return factory;
              })));
      boolean postgres = url.startsWith("jdbc:postgresql:");
      JdbcResourceStore store = null;
      try {
        store = new JdbcResourceStore(ds, codec, schema, postgres);
        if (postgres) {
          store.followOtherReplicas(url, user, password);
        }
        return store;
      } catch (RuntimeException | SQLException e) {
        if (store != null) {
          store.close();
        } else {
          ds.close();
        }
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("store: cannot open " + url.replaceAll("password=[^&;]*", "password=***"), e);
    }
  }

  @Override
  public Optional<Resource> get(ResourceType type, String mesh, String name) {
    try (Connection c = dataSource.getConnection()) {
      return find(c, type, meshKey(type, mesh), name);
    } catch (SQLException e) {
      throw new StoreException("store: get " + type.kumaName() + " " + name + " failed", e);
    }
  }

  @Override
  public Page list(ResourceType type, String mesh, Map<String, String> labels, int offset, int size) {
    String sql = "SELECT * FROM trellis_resources WHERE type = ?"
        + (mesh != null && type.isMeshScoped() ? " AND mesh = ?" : "") + " ORDER BY mesh, name";
    List<Resource> all = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, type.kumaName());
      if (mesh != null && type.isMeshScoped()) {
        s.setString(2, mesh);
      }
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          Resource r = row(rs);
          if (r.meta().labels().entrySet().containsAll(labels.entrySet())) {
            all.add(r);
          }
        }
      }
    } catch (SQLException e) {
      throw new StoreException("store: list " + type.kumaName() + " failed", e);
    }
    int from = Math.min(Math.max(offset, 0), all.size());
    int to = (int) Math.min((long) from + Math.max(size, 0), all.size());
    return new Page(List.copyOf(all.subList(from, to)), all.size());
  }

  @Override
  public List<Resource> listAll() {
    List<Resource> all = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement("SELECT * FROM trellis_resources ORDER BY type, mesh, name");
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        all.add(row(rs));
      }
    } catch (SQLException e) {
      throw new StoreException("store: list failed", e);
    }
    return all;
  }

  @Override
  public Resource put(Resource resource, long expectedVersion) {
    ResourceType type = resource.type();
    String mesh = meshKey(type, resource.mesh());
    String name = resource.name();
    ChangeEvent event;
    Resource stored;
    synchronized (writeLock) {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        try {
          Optional<Resource> current = find(c, type, mesh, name);
          long now = Instant.now().toEpochMilli();
          String labels = json.writeValueAsString(resource.meta().labels());
          String spec = codec.toJson(resource.spec());
          if (current.isEmpty()) {
            if (expectedVersion > 0) {
              throw new ConflictException(describe(type, mesh, name) + ": version " + expectedVersion
                  + " (expected: the resource to exist; it was deleted)");
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO trellis_resources "
                + "(type, mesh, name, version, labels, spec, creation_time, modification_time) "
                + "VALUES (?, ?, ?, 1, ?, ?, ?, ?)")) {
              s.setString(1, type.kumaName());
              s.setString(2, mesh);
              s.setString(3, name);
              s.setString(4, labels);
              s.setString(5, spec);
              s.setLong(6, now);
              s.setLong(7, now);
              s.executeUpdate();
            } catch (SQLException e) {
              if (isDuplicate(e)) {
                throw new ConflictException(describe(type, mesh, name) + ": created concurrently (expected: retry)");
              }
              throw e;
            }
          } else {
            long currentVersion = current.get().meta().version();
            if (expectedVersion == NEW) {
              throw new ConflictException(describe(type, mesh, name) + ": already exists (version "
                  + currentVersion + ")");
            }
            long guard = expectedVersion == ANY_VERSION ? currentVersion : expectedVersion;
            try (PreparedStatement s = c.prepareStatement("UPDATE trellis_resources SET version = version + 1, "
                + "labels = ?, spec = ?, modification_time = ? WHERE type = ? AND mesh = ? AND name = ? "
                + "AND version = ?")) {
              s.setString(1, labels);
              s.setString(2, spec);
              s.setLong(3, now);
              s.setString(4, type.kumaName());
              s.setString(5, mesh);
              s.setString(6, name);
              s.setLong(7, guard);
              if (s.executeUpdate() == 0) {
                throw new ConflictException(describe(type, mesh, name) + ": version " + guard
                    + " is stale (current: " + currentVersion + ")");
              }
            }
          }
          stored = find(c, type, mesh, name).orElseThrow();
          notifyReplicas(c, new Key(type, mesh, name));
          c.commit();
          event = new ChangeEvent(type, resource.mesh(), name, published(new Key(type, mesh, name), current), stored);
        } catch (SQLException | JsonProcessingException | RuntimeException e) {
          c.rollback();
          throw e;
        }
      } catch (SQLException | JsonProcessingException e) {
        throw new StoreException("store: put " + describe(type, mesh, name) + " failed", e);
      }
      publish(List.of(event));
    }
    return stored;
  }

  @Override
  public boolean delete(ResourceType type, String mesh, String name, long expectedVersion) {
    String key = meshKey(type, mesh);
    List<ChangeEvent> events = new ArrayList<>();
    synchronized (writeLock) {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        try {
          Optional<Resource> current = find(c, type, key, name);
          if (current.isEmpty()) {
            c.rollback();
            return false;
          }
          if (expectedVersion > 0 && current.get().meta().version() != expectedVersion) {
            throw new ConflictException(describe(type, key, name) + ": version " + expectedVersion
                + " is stale (current: " + current.get().meta().version() + ")");
          }
          if (type == ResourceType.MESH) {
            // A mesh takes everything in it along, as in Kuma.
            try (PreparedStatement s = c.prepareStatement("SELECT * FROM trellis_resources WHERE mesh = ?")) {
              s.setString(1, name);
              try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                  Resource r = row(rs);
                  events.add(new ChangeEvent(r.type(), r.mesh(), r.name(),
                      known == null ? r : known.getOrDefault(Key.of(r), r), null));
                }
              }
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM trellis_resources WHERE mesh = ?")) {
              s.setString(1, name);
              s.executeUpdate();
            }
          }
          try (PreparedStatement s = c.prepareStatement(
              "DELETE FROM trellis_resources WHERE type = ? AND mesh = ? AND name = ? AND version = ?")) {
            s.setString(1, type.kumaName());
            s.setString(2, key);
            s.setString(3, name);
            s.setLong(4, current.get().meta().version());
            if (s.executeUpdate() == 0) {
              throw new ConflictException(describe(type, key, name) + ": changed concurrently (expected: retry)");
            }
          }
          notifyReplicas(c, new Key(type, key, name));
          c.commit();
          events.add(new ChangeEvent(type, mesh, name, published(new Key(type, key, name), current), null));
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        }
      } catch (SQLException e) {
        throw new StoreException("store: delete " + describe(type, key, name) + " failed", e);
      }
      publish(events);
    }
    return true;
  }

  @Override
  public AutoCloseable watch(Consumer<ChangeEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
    return () -> listeners.remove(listener);
  }

  @Override
  public boolean synced() {
    return feed == null || feed.connected();
  }

  @Override
  public void close() {
    if (feed != null) {
      feed.close();
    }
    dataSource.close();
  }

  private void notifyReplicas(Connection c, Key key) throws SQLException {
    if (channel == null) {
      return;
    }
    try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      s.setString(1, channel);
      s.setString(2, key.payload());
      s.execute();
    }
  }

  /** The {@code before} of an event: on PostgreSQL what this replica last published, else the row found. */
  private Resource published(Key key, Optional<Resource> current) {
    return known == null ? current.orElse(null) : known.get(key);
  }

  /** Other replicas changed these keys: re-read them, publish what differs from what we last published. */
  private void reconcile(java.util.Set<String> payloads) {
    synchronized (writeLock) {
      List<ChangeEvent> events = new ArrayList<>();
      try (Connection c = dataSource.getConnection()) {
        for (String payload : payloads) {
          Key key = Key.parse(payload);
          if (key == null) {
            continue;
          }
          Optional<Resource> row = find(c, key.type(), key.mesh(), key.name());
          diff(key, known.get(key), row.orElse(null), events);
          if (key.type() == ResourceType.MESH && row.isEmpty()) {
            // a deleted Mesh took everything in it along
            for (Key k : List.copyOf(known.keySet())) {
              if (k.type() != ResourceType.MESH && k.mesh().equals(key.name())) {
                diff(k, known.get(k), find(c, k.type(), k.mesh(), k.name()).orElse(null), events);
              }
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        // the feed reconnects and resyncs everything
        throw new StoreException("store: reading changes of other replicas failed", e);
      }
      publish(events);
    }
  }

  /** After the feed (re)connected: everything that differs from what we last published. */
  private void resync() {
    synchronized (writeLock) {
      Map<Key, Resource> now = new java.util.HashMap<>();
      for (Resource r : listAll()) {
        now.put(Key.of(r), r);
      }
      List<ChangeEvent> events = new ArrayList<>();
      for (Key k : List.copyOf(known.keySet())) {
        if (!now.containsKey(k)) {
          diff(k, known.get(k), null, events);
        }
      }
      for (Map.Entry<Key, Resource> e : now.entrySet()) {
        diff(e.getKey(), known.get(e.getKey()), e.getValue(), events);
      }
      publish(events);
    }
  }

  private void diff(Key key, Resource before, Resource after, List<ChangeEvent> events) {
    if (before == null && after == null
        || before != null && after != null && before.meta().version() == after.meta().version()) {
      return;
    }
    String mesh = key.type().isMeshScoped() ? key.mesh() : null;
    events.add(new ChangeEvent(key.type(), mesh, key.name(), before, after));
  }

  private void publish(List<ChangeEvent> events) {
    for (ChangeEvent event : events) {
      if (known != null) {
        Key key = event.after() != null ? Key.of(event.after()) : Key.of(event.before());
        if (event.after() != null) {
          known.put(key, event.after());
        } else {
          known.remove(key);
        }
      }
      for (Consumer<ChangeEvent> listener : listeners) {
        try {
          listener.accept(event);
        } catch (RuntimeException e) {
          // A broken listener must not undo or block a committed write.
          System.getLogger(JdbcResourceStore.class.getName())
              .log(System.Logger.Level.WARNING, "store listener failed on " + event.type() + " " + event.name(), e);
        }
      }
    }
  }

  private Optional<Resource> find(Connection c, ResourceType type, String mesh, String name) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT * FROM trellis_resources WHERE type = ? AND mesh = ? AND name = ?")) {
      s.setString(1, type.kumaName());
      s.setString(2, mesh);
      s.setString(3, name);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  private Resource row(ResultSet rs) throws SQLException {
    String typeName = rs.getString("type");
    ResourceType type = ResourceType.fromName(typeName)
        .orElseThrow(() -> new StoreException("store: unknown type " + typeName + " in the database", null));
    String mesh = rs.getString("mesh");
    try {
      Map<String, String> labels = json.readValue(rs.getString("labels"), LABELS);
      Spec spec = codec.specFromJson(type, rs.getString("spec"));
      Meta meta = new Meta(type.isMeshScoped() ? mesh : null, rs.getString("name"), labels, rs.getLong("version"),
          Instant.ofEpochMilli(rs.getLong("creation_time")), Instant.ofEpochMilli(rs.getLong("modification_time")));
      return new Resource(type, meta, spec);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new StoreException("store: unreadable row " + typeName + " " + mesh + "/" + rs.getString("name"), e);
    }
  }

  private static String meshKey(ResourceType type, String mesh) {
    if (!type.isMeshScoped()) {
      return "";
    }
    return requireNonNull(mesh, "mesh");
  }

  private static String describe(ResourceType type, String mesh, String name) {
    return type.kumaName() + " " + (mesh.isEmpty() ? "" : mesh + "/") + name;
  }

  private static boolean isDuplicate(SQLException e) {
    // 23505: unique_violation in PostgreSQL; H2 uses the same SQLSTATE.
    return "23505".equals(e.getSQLState());
  }
}
