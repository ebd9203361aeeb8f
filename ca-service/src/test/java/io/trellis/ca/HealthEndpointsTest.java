package io.trellis.ca;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.trellis.ca.testing.FakePolicyResource;
import org.junit.jupiter.api.Test;

/** The operational endpoints every Trellis service serves on its one port. */
@QuarkusTest
@QuarkusTestResource(FakePolicyResource.class)
class HealthEndpointsTest {
  @Test
  void liveAndReadyAreUp() throws Exception {
    // ready once the meshes' backends are loaded (the builtin root is created in the background)
    io.trellis.ca.testing.Await.until("readiness", java.time.Duration.ofSeconds(30),
        () -> given().when().get("/q/health/ready").statusCode() == 200);
    given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
  }

  @Test
  void prometheusMetricsAreServed() {
    given().when().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
  }
}
