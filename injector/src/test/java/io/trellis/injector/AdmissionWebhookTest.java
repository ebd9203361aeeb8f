package io.trellis.injector;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Both webhooks with real AdmissionReview JSON: bad input, non-pods, updates, validation, metrics. */
@QuarkusTest
@WithKubernetesTestServer
class AdmissionWebhookTest {
  @Inject KubernetesClient client;

  @BeforeEach
  void namespaces() {
    Namespaces.create(client);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "not JSON|{not json|body: not JSON (expected: an admission.k8s.io/v1 AdmissionReview)",
    "a JSON array|[1,2]|body: empty or not an object",
    "wrong apiVersion|{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"1\"}}|apiVersion/kind: admission.k8s.io/v1beta1/AdmissionReview (expected: admission.k8s.io/v1 AdmissionReview)",
    "no request|{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}|request: missing",
    "no uid|{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"object\":{}}}|request.uid: missing",
  })
  void malformedReviewIsA400WithAReason(String name, String body, String reason) {
    for (String path : new String[] {"/inject-sidecar", "/validate"}) {
      given().contentType("application/json").body(body).when().post(path)
          .then().statusCode(400)
          .body("code", equalTo(400))
          .body("reason", equalTo("BadRequest"))
          .body("message", containsString(reason))
          .body(not(containsString("Exception")));
    }
  }

  @Test
  void emptyBodyIsA400() {
    given().contentType("application/json").body("").when().post("/inject-sidecar")
        .then().statusCode(400).body("message", containsString("body: empty"));
  }

  @Test
  void unreadablePodIsDeniedNotA500() throws Exception {
    JsonNode pod = InjectSidecarGoldenTest.JSON.readTree(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"mesh-enabled\"},\"spec\":{\"containers\":\"app\"}}");
    given().contentType("application/json").body(InjectSidecarGoldenTest.review(pod, "u1").toString())
        .when().post("/inject-sidecar")
        .then().statusCode(200)
        .body("response.uid", equalTo("u1"))
        .body("response.allowed", equalTo(false))
        .body("response.status.message", containsString("object: not a readable Pod"));
  }

  @Test
  void updatesAndOtherKindsAreAdmittedUnchanged() throws Exception {
    JsonNode pod = InjectSidecarGoldenTest.YAML.readTree(
        getClass().getResourceAsStream("/inject/inject.02.input.yaml"));
    ObjectNode update = InjectSidecarGoldenTest.review(pod, "u2");
    ((ObjectNode) update.get("request")).put("operation", "UPDATE");
    given().contentType("application/json").body(update.toString()).when().post("/inject-sidecar")
        .then().statusCode(200).body("response.allowed", equalTo(true)).body("response.patch", nullValue());

    ObjectNode service = InjectSidecarGoldenTest.review(pod, "u3");
    ((ObjectNode) service.get("request").get("kind")).put("kind", "Service");
    given().contentType("application/json").body(service.toString()).when().post("/inject-sidecar")
        .then().statusCode(200).body("response.allowed", equalTo(true)).body("response.patch", nullValue());
  }

  private static ObjectNode kumaReview(String uid, String kind, String operation, String objectJson) throws Exception {
    ObjectNode review = InjectSidecarGoldenTest.JSON.createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", uid);
    request.putObject("kind").put("group", "kuma.io").put("version", "v1alpha1").put("kind", kind);
    request.put("operation", operation);
    request.set("object", objectJson == null ? null : InjectSidecarGoldenTest.JSON.readTree(objectJson));
    return review;
  }

  @Test
  void validResourceIsAllowed() throws Exception {
    String mtp = """
        {"apiVersion":"kuma.io/v1alpha1","kind":"MeshTrafficPermission",
         "metadata":{"name":"allow-all","namespace":"trellis-system","labels":{"kuma.io/mesh":"default"},
           "uid":"0b7f3c1e-3a55-4d4c-9d1e-8e2f3a4b5c6d","resourceVersion":"12345","generation":1,
           "creationTimestamp":"2026-11-23T10:00:00Z",
           "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"},
           "managedFields":[{"manager":"kubectl","operation":"Apply","apiVersion":"kuma.io/v1alpha1"}]},
         "spec":{"targetRef":{"kind":"Mesh"},"from":[{"targetRef":{"kind":"Mesh"},"default":{"action":"Allow"}}]}}
        """;
    given().contentType("application/json").body(kumaReview("v1", "MeshTrafficPermission", "CREATE", mtp).toString())
        .when().post("/validate")
        .then().statusCode(200).body("response.uid", equalTo("v1")).body("response.allowed", equalTo(true));
  }

  @Test
  void invalidResourceIsRefusedWithFieldPaths() throws Exception {
    String mtp = """
        {"apiVersion":"kuma.io/v1alpha1","kind":"MeshTrafficPermission",
         "metadata":{"name":"bad","namespace":"trellis-system"},
         "spec":{"targetRef":{"kind":"Mesh"},"from":[{"targetRef":{"kind":"Mesh"},"default":{"action":"Maybe"}}]}}
        """;
    given().contentType("application/json").body(kumaReview("v2", "MeshTrafficPermission", "UPDATE", mtp).toString())
        .when().post("/validate")
        .then().statusCode(200)
        .body("response.allowed", equalTo(false))
        .body("response.status.code", equalTo(422))
        .body("response.status.message", containsString("spec.from[0].default.action"))
        .body("response.status.details.causes.field", hasItem("spec.from[0].default.action"));
  }

  @Test
  void meshWithUnknownBackendIsRefused() throws Exception {
    String mesh = """
        {"apiVersion":"kuma.io/v1alpha1","kind":"Mesh","metadata":{"name":"default"},
         "spec":{"mtls":{"enabledBackend":"ca-2","backends":[{"name":"ca-1","type":"builtin"}]}}}
        """;
    given().contentType("application/json").body(kumaReview("v3", "Mesh", "CREATE", mesh).toString())
        .when().post("/validate")
        .then().statusCode(200)
        .body("response.allowed", equalTo(false))
        .body("response.status.message", containsString("mtls.enabledBackend: \"ca-2\" (expected: one of the backend names: ca-1)"));
  }

  @Test
  void deletesAndOtherGroupsAreAllowed() throws Exception {
    given().contentType("application/json").body(kumaReview("v4", "Mesh", "DELETE", null).toString())
        .when().post("/validate").then().statusCode(200).body("response.allowed", equalTo(true));
    ObjectNode other = kumaReview("v5", "Deployment", "CREATE", "{\"kind\":\"Deployment\"}");
    ((ObjectNode) other.get("request").get("kind")).put("group", "apps");
    given().contentType("application/json").body(other.toString())
        .when().post("/validate").then().statusCode(200).body("response.allowed", equalTo(true));
  }

  @Test
  void admissionsAreCountedByResult() throws Exception {
    JsonNode pod = InjectSidecarGoldenTest.YAML.readTree(getClass().getResourceAsStream("/inject/inject.01.input.yaml"));
    given().contentType("application/json").body(InjectSidecarGoldenTest.review(pod, "m1").toString())
        .when().post("/inject-sidecar").then().statusCode(200).body("response.patchType", equalTo("JSONPatch"));
    given().when().get("/q/metrics").then().statusCode(200)
        .body(containsString("trellis_injector_admissions_total{result=\"injected\",webhook=\"inject-sidecar\"}"))
        .body(containsString("trellis_injector_admission_duration_seconds_count{webhook=\"inject-sidecar\"}"));
  }
}
