package io.trellis.injector;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation of the golden input pods (fields deleted, replaced by values of the wrong type,
 * annotations set to junk): the webhook always answers a well-formed AdmissionReview, never a 500
 * or a stack trace, and never admits a selected pod without its sidecar unless it says why.
 */
@QuarkusTest
@WithKubernetesTestServer
class MalformedPodsTest {
  private static final JsonNode[] JUNK = {
    JsonNodeFactory.instance.nullNode(), JsonNodeFactory.instance.textNode("x"), JsonNodeFactory.instance.numberNode(-1),
    JsonNodeFactory.instance.arrayNode(), JsonNodeFactory.instance.objectNode(), JsonNodeFactory.instance.booleanNode(true),
    JsonNodeFactory.instance.textNode("99999"), JsonNodeFactory.instance.textNode(",,;;::--"),
  };
  private static final String[] ANNOTATIONS = {
    "kuma.io/sidecar-injection", "kuma.io/mesh", "kuma.io/gateway", "kuma.io/sidecar-uid",
    "traffic.kuma.io/exclude-inbound-ports", "traffic.kuma.io/exclude-outbound-ports",
    "traffic.kuma.io/exclude-outbound-ports-for-uids", "traffic.kuma.io/exclude-inbound-ips",
    "kuma.io/sidecar-env-vars", "kuma.io/envoy-log-level", "kuma.io/virtual-probes-port", "trellis.io/native-sidecar",
  };

  @Inject KubernetesClient client;

  @Test
  void mutatedPodsNeverCauseA500() throws Exception {
    Namespaces.create(client);
    List<JsonNode> seeds = new ArrayList<>();
    try (var files = Files.list(Path.of("src/test/resources/inject"))) {
      for (Path p : files.filter(f -> f.toString().endsWith(".input.yaml")).sorted().toList()) {
        seeds.add(InjectSidecarGoldenTest.YAML.readTree(p.toFile()));
      }
    }
    Random random = new Random(20261123);
    int denied = 0;
    for (int i = 0; i < 300; i++) {
      JsonNode pod = seeds.get(random.nextInt(seeds.size())).deepCopy();
      ((ObjectNode) pod.with("metadata").with("labels")).put("kuma.io/sidecar-injection", "enabled");
      for (int m = 0; m < 1 + random.nextInt(3); m++) {
        mutate(pod, random);
      }
      Response r = given().contentType("application/json")
          .body(InjectSidecarGoldenTest.review(pod, "fuzz-" + i).toString()).post("/inject-sidecar");
      assertThat(r.statusCode()).as("case %s: %s", i, pod).isEqualTo(200);
      String body = r.asString();
      assertThat(body).as("case %s", i).doesNotContain("Exception").doesNotContain("\tat ");
      JsonNode response = InjectSidecarGoldenTest.JSON.readTree(body).get("response");
      assertThat(response.get("uid").asText()).isEqualTo("fuzz-" + i);
      boolean allowed = response.get("allowed").asBoolean();
      if (!allowed) {
        denied++;
        // A deliberate refusal names what is wrong; the catch-all (an unexpected exception) must not fire.
        assertThat(response.path("status").path("message").asText()).as("case %s: %s", i, pod)
            .isNotBlank().doesNotStartWith("sidecar injection failed");
      }
    }
    assertThat(denied).as("some mutations must be refused").isPositive();
  }

  private static void mutate(JsonNode pod, Random random) {
    switch (random.nextInt(4)) {
      case 0 -> ((ObjectNode) pod.with("metadata").with("annotations"))
          .set(ANNOTATIONS[random.nextInt(ANNOTATIONS.length)], JsonNodeFactory.instance.textNode(junkText(random)));
      case 1, 2 -> {
        List<ObjectNode> parents = new ArrayList<>();
        collect(pod, parents);
        ObjectNode parent = parents.get(random.nextInt(parents.size()));
        List<String> names = new ArrayList<>();
        parent.fieldNames().forEachRemaining(names::add);
        if (names.isEmpty() || parent == pod) {
          return;
        }
        String field = names.get(random.nextInt(names.size()));
        if (random.nextBoolean()) {
          parent.remove(field);
        } else {
          parent.set(field, JUNK[random.nextInt(JUNK.length)]);
        }
      }
      default -> {
        JsonNode containers = pod.path("spec").path("containers");
        if (containers instanceof ArrayNode a && a.size() > 0 && a.get(0) instanceof ObjectNode c) {
          c.with("securityContext").put("runAsUser", random.nextBoolean() ? 5678 : random.nextInt(100000));
        }
      }
    }
  }

  private static String junkText(Random random) {
    String[] options = {"", " ", "enabled", "disabled", "1,2,x", "70000", "tcp:22", "a=b;c", "DEBUG", "::1/129", "-1",
        "udp:*:1-0", "é", "9000", "10.0.0.0/8,,", "*:*:*"};
    return options[random.nextInt(options.length)];
  }

  private static void collect(JsonNode node, List<ObjectNode> out) {
    if (node instanceof ObjectNode o) {
      out.add(o);
      o.elements().forEachRemaining(n -> collect(n, out));
    } else if (node instanceof ArrayNode a) {
      a.elements().forEachRemaining(n -> collect(n, out));
    }
  }
}
