package io.trellis.xds;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The operational endpoints every Trellis service serves on its one port. */
@QuarkusTest
@TestProfile(HealthEndpointsTest.NoDependencies.class)
class HealthEndpointsTest {
  /** policy-service and ca-service point at a closed port. */
  public static class NoDependencies implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("trellis.policy.address", "127.0.0.1:1", "trellis.ca.address", "127.0.0.1:1",
          "trellis.data-dir", System.getProperty("java.io.tmpdir") + "/xds-health-test");
    }
  }

  @Test
  void liveIsUpButReadyIsDownWithoutDependencies() {
    given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    given().when().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"))
        .body(containsString("waiting for verification keys"));
  }

  @Test
  void prometheusMetricsAreServed() {
    given().when().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"))
        .body(containsString("trellis_xds_connected_proxies"));
  }
}
