package io.trellis.gateway.proxy;

import static io.trellis.gateway.testing.Xds.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.testing.Pki;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real PostgreSQL 15 with SSL behind an SNI passthrough chain; the real psql 15 (classic SSLRequest)
 * connects with sslmode=verify-full, so the handshake only succeeds if it reaches the database's own
 * certificate for the name it asked for.
 */
class PostgresPassthroughIT {
  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  static Path dir;
  static Process postgres;
  static DataPlane dp;
  static int gwPort;
  static Path ca;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Files.isExecutable(BIN.resolve("postgres")), "PostgreSQL 15 server binaries not installed");
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run postgres as the postgres user");
    dir = Files.createTempDirectory("pg-passthrough");
    run("chmod", "755", dir.toString());
    Path data = dir.resolve("data");
    Pki pki = new Pki("db-ca", Pki.Alg.EC);
    Pki.Issued cert = pki.issue(Pki.Alg.EC, List.of("db.internal"), List.of());
    ca = cert.writeCa(dir, "ca.pem");
    run("chown", "postgres", dir.toString());
    run("runuser", "-u", "postgres", "--", BIN.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
        "--auth=trust", "-E", "UTF8");
    Files.writeString(data.resolve("server.crt"), cert.certPem());
    Files.writeString(data.resolve("server.key"), cert.keyPem());
    run("chown", "postgres", data.resolve("server.crt").toString(), data.resolve("server.key").toString());
    run("chmod", "600", data.resolve("server.key").toString());
    int pgPort = freePort();
    postgres = new ProcessBuilder("runuser", "-u", "postgres", "--", BIN.resolve("postgres").toString(), "-D", data.toString(),
        "-p", String.valueOf(pgPort), "-k", dir.toString(), "-c", "listen_addresses=127.0.0.1", "-c", "ssl=on",
        "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key")
        .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
    long deadline = System.currentTimeMillis() + 30_000;
    while (true) {
      try (Socket s = new Socket("127.0.0.1", pgPort)) {
        break;
      } catch (java.io.IOException e) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("postgres did not start: " + Files.readString(dir.resolve("postgres.log")));
        }
        Thread.sleep(100);
      }
    }
    gwPort = freePort();
    Listener l = Listener.newBuilder().setName("pg").setAddress(address("127.0.0.1", gwPort))
        .addFilterChains(passthroughChain(List.of("db.internal"), "db"))
        .build();
    Xds.Set set = new Xds.Set().add(l, staticCluster("db", new InetSocketAddress("127.0.0.1", pgPort)));
    dp = new DataPlane(new DataPlane.Options(1, 0, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(set.resources()));
  }

  @AfterAll
  static void stop() throws Exception {
    if (dp != null) {
      dp.close();
    }
    if (postgres != null) {
      postgres.destroy();
      postgres.waitFor(20, TimeUnit.SECONDS);
    }
    if (dir != null) {
      try (var s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  static String psql(String host, String sql) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("psql", "host=" + host + " hostaddr=127.0.0.1 port=" + gwPort
        + " user=postgres dbname=postgres sslmode=verify-full sslrootcert=" + ca + " connect_timeout=10",
        "-tA", "-c", sql));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  @Test
  void psqlWithSslRequestReachesTheDatabaseAndVerifiesItsCertificate() throws Exception {
    String out = psql("db.internal", "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()");
    assertThat(out).matches("t\\|TLSv1\\.[23]");
  }

  @Test
  void anUnknownServerNameGetsNoDatabase() throws Exception {
    String out = psql("other.internal", "select 1");
    assertThat(out).doesNotContain("1\n").containsIgnoringCase("ssl");
  }
}
