package io.trellis.e2e.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The real control plane: policy-service, ca-service and xds-service as processes wired to each other
 * on free ports, plus clients for policy-service's REST API and ca-service's dataplane tokens.
 */
public final class ControlPlane implements AutoCloseable {
  private static final Duration READY = Duration.ofSeconds(120);

  public final Processes processes;
  public final int policyPort = Processes.freePort();
  public final int caPort = Processes.freePort();
  public final int xdsPort = Processes.freePort();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ControlPlane(String suite) {
    this.processes = new Processes(suite);
  }

  /** Starts the three services and returns once each reports ready. */
  public static ControlPlane start(String suite) {
    ControlPlane cp = new ControlPlane(suite);
    try {
      Map<String, String> env = Map.of(
          "TRELLIS_POLICY_ADDRESS", "127.0.0.1:" + cp.policyPort,
          "TRELLIS_CA_ADDRESS", "127.0.0.1:" + cp.caPort);
      var policy = cp.processes.start("policy-service", "policy-service", quarkus(cp.policyPort), env);
      var ca = cp.processes.start("ca-service", "ca-service", quarkus(cp.caPort), env);
      var xds = cp.processes.start("xds-service", "xds-service", quarkus(cp.xdsPort), env);
      // started together, awaited together: each retries its upstreams until they are up
      CompletableFuture.allOf(
          CompletableFuture.runAsync(() -> Processes.awaitReady(policy, cp.health(cp.policyPort), READY)),
          CompletableFuture.runAsync(() -> Processes.awaitReady(ca, cp.health(cp.caPort), READY)),
          CompletableFuture.runAsync(() -> Processes.awaitReady(xds, cp.health(cp.xdsPort), READY))).join();
      return cp;
    } catch (RuntimeException e) {
      cp.close();
      throw e;
    }
  }

  private static Map<String, String> quarkus(int port) {
    return Map.of("quarkus.http.port", String.valueOf(port), "quarkus.http.host", "127.0.0.1");
  }

  private URI health(int port) {
    return URI.create("http://127.0.0.1:" + port + "/q/health/ready");
  }

  public String xdsAddress() {
    return "127.0.0.1:" + xdsPort;
  }

  public String serviceToken() {
    try {
      return Files.readString(processes.dataDir().resolve("service-token"), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      throw new IllegalStateException("service token not created by the services", e);
    }
  }

  /** {@code PUT} a resource (universal JSON or YAML) at a policy-service REST path; fails unless 200/201. */
  public void put(String path, String body) {
    String type = body.stripLeading().startsWith("{") ? "application/json" : "application/yaml";
    HttpResponse<String> r = send(HttpRequest.newBuilder(policy(path)).header("Content-Type", type)
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
    if (r.statusCode() != 200 && r.statusCode() != 201) {
      throw new AssertionError("PUT " + path + " -> " + r.statusCode() + ": " + r.body());
    }
  }

  public void delete(String path) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(policy(path)).DELETE());
    if (r.statusCode() != 200) {
      throw new AssertionError("DELETE " + path + " -> " + r.statusCode() + ": " + r.body());
    }
  }

  public HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(policy(path)).GET());
  }

  /** A dataplane token from ca-service's {@code POST /tokens/dataplane} (Kuma's request body). */
  public String dataplaneToken(String mesh, String name) {
    String body = "{\"mesh\":\"" + mesh + "\",\"name\":\"" + name + "\",\"validFor\":\"1h\"}";
    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + caPort + "/tokens/dataplane"))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + serviceToken())
        .POST(HttpRequest.BodyPublishers.ofString(body)));
    if (r.statusCode() != 200) {
      throw new AssertionError("POST /tokens/dataplane -> " + r.statusCode() + ": " + r.body());
    }
    return r.body().trim();
  }

  /** Writes a dataplane token to a file (mode 0600) for a proxy started with a token file. */
  public Path dataplaneTokenFile(String mesh, String name) {
    try {
      Path f = processes.dataDir().resolve("token-" + mesh + "." + name);
      Files.writeString(f, dataplaneToken(mesh, name));
      f.toFile().setReadable(false, false);
      f.toFile().setReadable(true, true);
      return f;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private URI policy(String path) {
    return URI.create("http://127.0.0.1:" + policyPort + path);
  }

  private HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      return http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(b.build().method() + " " + b.build().uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The whole log of one service so far. */
  public String log(String name) {
    try {
      return Files.readString(Processes.logFile(processes, name));
    } catch (IOException e) {
      return "";
    }
  }

  /** Log tails of every service, for a failure message. */
  public String logs(List<String> names) {
    StringBuilder sb = new StringBuilder();
    for (String n : names) {
      Path log = Processes.logFile(processes, n);
      sb.append("\n--- ").append(n).append(" (").append(log).append(")\n").append(Processes.tail(log, 15));
    }
    return sb.toString();
  }

  @Override
  public void close() {
    processes.close();
  }
}
