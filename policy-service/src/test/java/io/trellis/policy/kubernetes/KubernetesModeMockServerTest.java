package io.trellis.policy.kubernetes;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * policy-service started with {@code trellis.store.type=kubernetes} against fabric8's mock API server: readiness,
 * the REST API on custom resources (409 on a stale version), and Dataplanes appearing for injected pods.
 */
@QuarkusTest
@TestProfile(KubernetesModeMockServerTest.KubernetesProfile.class)
@QuarkusTestResource(value = MockApiServerResource.class, restrictToAnnotatedClass = true)
class KubernetesModeMockServerTest {
  private static final String YAML = "application/yaml";

  static {
    io.restassured.RestAssured.config = io.restassured.RestAssured.config().encoderConfig(
        io.restassured.config.EncoderConfig.encoderConfig().encodeContentTypeAs(YAML,
            io.restassured.http.ContentType.TEXT));
  }

  public static class KubernetesProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("trellis.store.type", "kubernetes");
    }
  }

  @Test
  void readyOnceInformersAndControllersHaveSynced() {
    Eventually.await(Duration.ofSeconds(20), () -> given().get("/q/health/ready").statusCode() == 200);
    given().get("/q/health/ready").then().body(containsString("kubernetes-controllers"));
  }

  @Test
  void restWritesAreCustomResourcesAndStaleVersionsConflict() {
    given().contentType(YAML).body("type: Mesh\nname: default\n").put("/meshes/default").then().statusCode(
        org.hamcrest.Matchers.oneOf(200, 201));
    String mtp = """
        type: MeshTrafficPermission
        mesh: default
        name: allow-all.kuma-system
        spec:
          targetRef:
            kind: Mesh
          from:
            - targetRef:
                kind: Mesh
              default:
                action: Allow
        """;
    given().contentType(YAML).body(mtp).put("/meshes/default/meshtrafficpermissions/allow-all.kuma-system")
        .then().statusCode(201);
    String etag = given().get("/meshes/default/meshtrafficpermissions/allow-all.kuma-system").then()
        .statusCode(200).body("name", equalTo("allow-all.kuma-system")).extract().header("ETag");
    KubernetesClient client = MockApiServerResource.server.client();
    var object = client.genericKubernetesResources(KumaKind.MESH_TRAFFIC_PERMISSION.context())
        .inNamespace("kuma-system").withName("allow-all").get();
    assertThat(object).isNotNull();
    assertThat(etag).contains(object.getMetadata().getResourceVersion());

    given().contentType(YAML).body(mtp.replace("Allow", "Deny")).header("If-Match", etag)
        .put("/meshes/default/meshtrafficpermissions/allow-all.kuma-system").then().statusCode(200);
    given().contentType(YAML).body(mtp).header("If-Match", etag)
        .put("/meshes/default/meshtrafficpermissions/allow-all.kuma-system").then().statusCode(409);

    given().contentType(YAML).body(mtp.replace("allow-all.kuma-system", "allow-all"))
        .put("/meshes/default/meshtrafficpermissions/allow-all").then().statusCode(400)
        .body(containsString("expected: <name>.<namespace>"));
  }

  @Test
  void anInjectedPodShowsUpAsADataplaneInTheRestApi() {
    given().contentType(YAML).body("type: Mesh\nname: default\n").put("/meshes/default");
    KubernetesClient client = MockApiServerResource.server.newClient();
    client.services().inNamespace("shop").resource(new ServiceBuilder().withNewMetadata().withName("cart")
        .endMetadata().withNewSpec().withSelector(Map.of("app", "cart"))
        .withPorts(new ServicePortBuilder().withPort(80).withNewTargetPort(8080).withAppProtocol("http").build())
        .endSpec().build()).create();
    client.pods().inNamespace("shop").resource(new PodBuilder().withNewMetadata().withName("cart-1")
        .withNamespace("shop").withLabels(Map.of("app", "cart"))
        .withAnnotations(Map.of("kuma.io/sidecar-injected", "true")).endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("cart:1").endContainer().endSpec()
        .withNewStatus().withPodIP("10.1.0.7").endStatus().build()).create();

    Eventually.await(Duration.ofSeconds(10), () ->
        given().get("/meshes/default/dataplanes/cart-1.shop").statusCode() == 200);
    given().get("/meshes/default/dataplanes/cart-1.shop").then()
        .body("networking.inbound[0].tags.'kuma.io/service'", equalTo("cart_shop_svc_80"))
        .body("networking.inbound[0].tags.'kuma.io/protocol'", equalTo("http"));

    client.pods().inNamespace("shop").withName("cart-1").delete();
    Eventually.await(Duration.ofSeconds(10), () ->
        given().get("/meshes/default/dataplanes/cart-1.shop").statusCode() == 404);
    client.close();
  }
}
