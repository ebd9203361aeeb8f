package io.trellis.injector;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** The operational endpoints every Trellis service serves on its one port. */
@QuarkusTest
class HealthEndpointsTest {
  @Test
  void liveAndReadyAreUp() {
    given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
  }

  @Test
  void readinessReportsTheWebhookCertificate() {
    given().when().get("/q/health/ready").then().statusCode(200)
        .body("checks.find { it.name == 'webhook-certificate' }.status", equalTo("UP"))
        .body("checks.find { it.name == 'webhook-certificate' }.data.subject", containsString("trellis-injector.test"));
  }

  @Test
  void prometheusMetricsAreServed() {
    given().when().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
  }
}
