package io.trellis.injector;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * inject/inject.NN.input.yaml → real AdmissionReview to {@code POST /inject-sidecar} → the returned
 * JSONPatch applied to the input → compared with inject.NN.golden.yaml (the decision, the message
 * and the resulting pod).
 */
@QuarkusTest
@WithKubernetesTestServer
class InjectSidecarGoldenTest {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE));
  static final ObjectMapper JSON = new ObjectMapper();

  @Inject KubernetesClient client;

  @BeforeEach
  void namespaces() {
    Namespaces.create(client);
  }

  static Stream<String> cases() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/inject"))) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".input.yaml"))
          .map(n -> n.substring(0, n.length() - ".input.yaml".length())).sorted().toList().stream();
    }
  }

  static ObjectNode review(JsonNode pod, String uid) {
    ObjectNode review = JSON.createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", uid);
    request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    request.put("namespace", pod.path("metadata").path("namespace").asText());
    request.put("operation", "CREATE");
    request.putObject("userInfo").put("username", "system:serviceaccount:kube-system:replicaset-controller");
    request.set("object", pod);
    request.put("dryRun", false);
    return review;
  }

  /** The sidecar's bootstrap is one JSON string in an env var: shown parsed, next to the pod, for review. */
  private static void readableBootstrap(ObjectNode golden, JsonNode pod) throws Exception {
    for (String list : new String[] {"initContainers", "containers"}) {
      for (JsonNode c : pod.path("spec").path(list)) {
        for (JsonNode env : c.path("env")) {
          if (env.path("name").asText().equals("TRELLIS_BOOTSTRAP")) {
            golden.set("bootstrap", JSON.readTree(env.get("value").asText()));
            ((ObjectNode) env).put("value", "(parsed in bootstrap below)");
          }
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void injectsAsTheGoldenFileSays(String name) throws Exception {
    JsonNode pod = YAML.readTree(Files.readString(Path.of("src/test/resources/inject", name + ".input.yaml")));
    String uid = "uid-" + name;
    String body = given().contentType("application/json").body(review(pod, uid).toString())
        .when().post("/inject-sidecar")
        .then().statusCode(200).extract().asString();
    JsonNode response = JSON.readTree(body).get("response");
    assertThat(response.get("uid").asText()).isEqualTo(uid);

    ObjectNode golden = JSON.createObjectNode();
    golden.put("allowed", response.get("allowed").asBoolean());
    if (response.has("status")) {
      golden.put("message", response.path("status").path("message").asText());
    }
    if (response.has("patch")) {
      assertThat(response.get("patchType").asText()).isEqualTo("JSONPatch");
      JsonNode patch = JSON.readTree(new String(Base64.getDecoder().decode(response.get("patch").asText()), StandardCharsets.UTF_8));
      golden.put("patched", true);
      JsonNode patched = JsonPatchApplier.apply(patch, pod);
      golden.set("pod", patched);
      readableBootstrap(golden, patched);
    } else {
      golden.put("patched", false);
    }
    Golden.assertMatches(YAML.writeValueAsString(golden), "inject/" + name.replace(".", ".") + ".golden.yaml");
  }
}
