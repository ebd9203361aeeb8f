package io.trellis.e2e.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The services under test as separate JVM processes started from their built {@code quarkus-app} jars,
 * as {@code ./trellis up} starts them, but on free ports and with a fresh data directory per test class.
 * Each process's output goes to {@code e2e/target/e2e-logs/<test class>/<service>.log}. Processes are
 * stopped by {@link #close()} and, should the test JVM die first, by a shutdown hook.
 */
public final class Processes implements AutoCloseable {
  public static final Path ROOT = Path.of(System.getProperty("trellis.e2e.root", "..")).toAbsolutePath().normalize();
  private static final Path LOGS = Path.of(System.getProperty("trellis.e2e.logs", "target/e2e-logs")).toAbsolutePath();
  /** Small heaps and a quick JIT: up to six JVMs share two cores with other builds. */
  private static final List<String> JVM_OPTS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "-Xss512k", "-Djava.net.preferIPv4Stack=true");

  private final Path logDir;
  private final Path dataDir;
  private final List<Started> started = new ArrayList<>();
  private final Thread hook = new Thread(this::stopAll, "e2e-process-reaper");

  public record Started(String name, Process process, Path log) {}

  public Processes(String suite) {
    try {
      this.logDir = Files.createDirectories(LOGS.resolve(suite));
      this.dataDir = Files.createTempDirectory("trellis-e2e-" + suite + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** The data directory shared by the services (holds the local service token). */
  public Path dataDir() {
    return dataDir;
  }

  static Path logFile(Processes p, String name) {
    return p.logDir.resolve(name + ".log");
  }

  public static Path jar(String module) {
    Path jar = ROOT.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " missing: build the module first (./mvnw -pl e2e -am verify packages it)");
    }
    return jar;
  }

  /** Starts {@code module}'s jar with extra system properties and environment; output to {@code <name>.log}. */
  public synchronized Started start(String name, String module, Map<String, String> sysprops, Map<String, String> env) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_OPTS);
    sysprops.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    cmd.add("-jar");
    cmd.add(jar(module).toString());
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dataDir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("TRELLIS_DATA_DIR", dataDir.toString());
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      Started s = new Started(name, p, log);
      started.add(s);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + name, e);
    }
  }

  /** Polls {@code url} until it answers 200; fails early with the log's tail when the process exits. */
  public static void awaitReady(Started s, URI url, Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!s.process().isAlive()) {
        throw new IllegalStateException(s.name() + " exited with " + s.process().exitValue() + " before ready; log "
            + s.log() + ":\n" + tail(s.log(), 40));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(3)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      sleep(250);
    }
    throw new IllegalStateException(s.name() + " not ready after " + timeout + " at " + url + " (last: " + last
        + "); log " + s.log() + ":\n" + tail(s.log(), 40));
  }

  public static String tail(Path log, int lines) {
    try {
      // readiness probes log every DOWN answer; they hide the lines that explain a failure
      List<String> all = Files.readAllLines(log).stream().filter(l -> !l.contains("SRHCK01001")).toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** A port that was free a moment ago (the services are told their ports; they cannot report a port 0). */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops one process (SIGTERM, then SIGKILL after 10 s). */
  public static void stop(Started s) {
    Process p = s.process();
    if (!p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private synchronized void stopAll() {
    // reverse start order: dependents first, so their logs do not fill with reconnect noise
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).process().destroy();
    }
    for (int i = started.size() - 1; i >= 0; i--) {
      stop(started.get(i));
    }
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or has run
    }
    deleteTree(dataDir);
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }
}
