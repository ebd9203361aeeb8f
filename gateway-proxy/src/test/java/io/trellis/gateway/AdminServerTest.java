package io.trellis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AdminServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readyFollowsTheConfigurationStateAndMetricsArePrometheusText() throws Exception {
    AtomicBoolean ready = new AtomicBoolean(false);
    try (AdminServer admin = new AdminServer(AdminServer.newRegistry(), ready::get, () -> "{\"configs\":[]}")) {
      int port = admin.start("127.0.0.1", 0).getPort();
      assertThat(get(port, "/ready").statusCode()).isEqualTo(503);
      ready.set(true);
      HttpResponse<String> readyRes = get(port, "/ready");
      assertThat(readyRes.statusCode()).isEqualTo(200);
      assertThat(readyRes.body()).isEqualTo("LIVE\n");
      HttpResponse<String> metrics = get(port, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("jvm_memory_used_bytes");
      assertThat(get(port, "/config_dump").body()).isEqualTo("{\"configs\":[]}");
      assertThat(get(port, "/nope").statusCode()).isEqualTo(404);
    }
  }
}
