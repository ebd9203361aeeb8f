package io.trellis.injector;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With the Kubernetes API unreachable the namespace's labels are unknown: the pod is refused
 * (allowed: false, with the reason), never admitted without its sidecar and never answered with a 500.
 */
@QuarkusTest
@TestProfile(FailClosedTest.Profile.class)
class FailClosedTest {
  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      // Port 1 on loopback: connection refused at once.
      return Map.of(
          "quarkus.kubernetes-client.api-server-url", "http://127.0.0.1:1",
          "quarkus.kubernetes-client.request-retry-backoff-limit", "0");
    }
  }

  @Test
  void unreachableApiServerDeniesThePod() throws Exception {
    JsonNode pod = InjectSidecarGoldenTest.YAML.readTree(getClass().getResourceAsStream("/inject/inject.02.input.yaml"));
    given().contentType("application/json").body(InjectSidecarGoldenTest.review(pod, "fc1").toString())
        .when().post("/inject-sidecar")
        .then().statusCode(200)
        .body("response.uid", equalTo("fc1"))
        .body("response.allowed", equalTo(false))
        .body("response.status.message", containsString("sidecar injection failed: namespace mesh-enabled could not be read"))
        .body(not(containsString("\tat ")));
  }
}
