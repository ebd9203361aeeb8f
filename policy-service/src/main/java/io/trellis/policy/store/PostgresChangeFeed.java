package io.trellis.policy.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Changes made by other policy-service replicas on the same PostgreSQL: every write sends
 * {@code pg_notify(channel, key)} inside its transaction (delivered on commit only), and this feed LISTENs on a
 * dedicated connection and hands the keys to the store, which re-reads them and publishes what changed. When the
 * connection drops, notifications in between are lost: on every (re)connect the feed LISTENs first and then asks
 * the store for a full resync, so nothing is missed; until then {@link #connected()} is false.
 */
final class PostgresChangeFeed implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(PostgresChangeFeed.class.getName());
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final String url;
  private final Properties props;
  private final String channel;
  private final Consumer<Set<String>> onKeys;
  private final Runnable onResync;
  private final Thread thread;
  private volatile Connection connection;
  private volatile boolean connected;
  private volatile boolean closed;

  /**
   * Connects and LISTENs before returning (so a write that commits after the constructor is never missed), then
   * follows notifications on a daemon thread.
   */
  PostgresChangeFeed(String url, String user, String password, String channel, String applicationName,
      Consumer<Set<String>> onKeys, Runnable onResync) throws SQLException {
    this.url = url;
    this.props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("ApplicationName", applicationName);
    this.channel = channel;
    this.onKeys = onKeys;
    this.onResync = onResync;
    this.connection = listen();
    this.connected = true;
    this.thread = new Thread(this::run, "policy-store-change-feed");
    thread.setDaemon(true);
    thread.start();
  }

  boolean connected() {
    return connected;
  }

  private Connection listen() throws SQLException {
    Connection c = new org.postgresql.Driver().connect(url, props);
    if (c == null) {
      throw new SQLException("not a PostgreSQL URL: " + url);
    }
    try (Statement s = c.createStatement()) {
      s.execute("LISTEN " + quote(channel));
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return c;
  }

  private void run() {
    long backoff = 100;
    while (!closed) {
      try {
        Connection c = connection;
        if (c == null) {
          c = listen();
          connection = c;
          // whatever changed while we were not listening
          onResync.run();
          connected = true;
          backoff = 100;
          LOG.log(System.Logger.Level.INFO, "store change feed: listening again on " + channel);
        }
        PGNotification[] notes = c.unwrap(PGConnection.class).getNotifications(500);
        if (notes != null && notes.length > 0) {
          Set<String> keys = new LinkedHashSet<>();
          for (PGNotification n : notes) {
            keys.add(n.getParameter());
          }
          onKeys.accept(keys);
        }
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          return;
        }
        connected = false;
        closeQuietly();
        LOG.log(System.Logger.Level.WARNING, "store change feed on " + channel + " lost (" + e.getMessage()
            + "), reconnecting in " + backoff + " ms");
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          return;
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
      }
    }
  }

  private void closeQuietly() {
    Connection c = connection;
    connection = null;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // already broken
      }
    }
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  @Override
  public void close() {
    closed = true;
    connected = false;
    thread.interrupt();
    closeQuietly();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
