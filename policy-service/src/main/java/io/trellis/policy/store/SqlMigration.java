package io.trellis.policy.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Statement;
import java.util.zip.CRC32;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;

/**
 * A versioned SQL script run by Flyway. Scripts are handed to Flyway explicitly instead of letting it scan the
 * classpath, because Quarkus' class loaders (tests, fast-jar) do not expose directories the way Flyway's scanner
 * expects.
 */
final class SqlMigration implements JavaMigration {
  private final String version;
  private final String description;
  private final String sql;

  SqlMigration(String version, String description, String resource) {
    this.version = version;
    this.description = description;
    try (InputStream in = SqlMigration.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("migration " + resource + " missing from the classpath");
      }
      this.sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("migration " + resource + " unreadable", e);
    }
  }

  @Override
  public MigrationVersion getVersion() {
    return MigrationVersion.fromVersion(version);
  }

  @Override
  public String getDescription() {
    return description;
  }

  @Override
  public Integer getChecksum() {
    CRC32 crc = new CRC32();
    crc.update(sql.getBytes(StandardCharsets.UTF_8));
    return (int) crc.getValue();
  }

  @Override
  public boolean canExecuteInTransaction() {
    return true;
  }

  @Override
  public void migrate(Context context) throws Exception {
    try (Statement statement = context.getConnection().createStatement()) {
      for (String part : sql.replaceAll("(?m)--.*$", "").split(";")) {
        if (!part.isBlank()) {
          statement.execute(part);
        }
      }
    }
  }
}
