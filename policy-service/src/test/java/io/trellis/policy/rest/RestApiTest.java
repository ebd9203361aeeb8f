package io.trellis.policy.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The Kuma REST API: CRUD, pagination, label filter, errors, inspect. Each test uses its own mesh. */
@QuarkusTest
class RestApiTest {
  static final String YAML = "application/yaml";

  static {
    io.restassured.RestAssured.config = io.restassured.RestAssured.config().encoderConfig(
        io.restassured.config.EncoderConfig.encoderConfig().encodeContentTypeAs(YAML, ContentType.TEXT));
  }

  static void mesh(String name) {
    given().contentType(YAML).body("type: Mesh\nname: " + name + "\n").put("/meshes/" + name)
        .then().statusCode(org.hamcrest.Matchers.either(equalTo(201)).or(equalTo(200)));
  }

  static void dataplane(String mesh, String name, String service, String address) {
    given().contentType(YAML).body("""
        type: Dataplane
        mesh: %s
        name: %s
        networking:
          address: %s
          inbound:
            - port: 8080
              tags: {kuma.io/service: %s, kuma.io/protocol: http}
          outbound:
            - port: 10001
              tags: {kuma.io/service: backend}
        """.formatted(mesh, name, address, service))
        .put("/meshes/" + mesh + "/dataplanes/" + name).then().statusCode(201);
  }

  static String resource(String path) throws IOException {
    try (InputStream in = RestApiTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void createReadUpdateDeleteWithVersions() {
    mesh("crud");
    String mtp = """
        type: MeshTrafficPermission
        mesh: crud
        name: allow-all
        spec:
          targetRef: {kind: Mesh}
          from:
            - targetRef: {kind: Mesh}
              default: {action: Allow}
        """;
    given().contentType(YAML).body(mtp).put("/meshes/crud/meshtrafficpermissions/allow-all")
        .then().statusCode(201).header("ETag", containsString("1"));
    given().get("/meshes/crud/meshtrafficpermissions/allow-all").then().statusCode(200)
        .body("type", equalTo("MeshTrafficPermission"))
        .body("spec.from[0].default.action", equalTo("Allow"));
    given().contentType(YAML).body(mtp.replace("Allow}", "Deny}")).header("If-Match", "\"1\"")
        .put("/meshes/crud/meshtrafficpermissions/allow-all").then().statusCode(200);
    given().contentType(YAML).body(mtp).header("If-Match", "\"1\"")
        .put("/meshes/crud/meshtrafficpermissions/allow-all").then().statusCode(409)
        .body("status", equalTo(409)).body("detail", containsString("stale"));
    given().delete("/meshes/crud/meshtrafficpermissions/allow-all").then().statusCode(200);
    given().get("/meshes/crud/meshtrafficpermissions/allow-all").then().statusCode(404)
        .body("detail", containsString("not found"));
  }

  @Test
  void jsonBodiesAreAcceptedToo() {
    mesh("json");
    given().contentType(ContentType.JSON).body("""
        {"type":"MeshTimeout","mesh":"json","name":"t","spec":{"targetRef":{"kind":"Mesh"},
         "to":[{"targetRef":{"kind":"Mesh"},"default":{"idleTimeout":"10s"}}]}}
        """).put("/meshes/json/meshtimeouts/t").then().statusCode(201);
    given().get("/meshes/json/meshtimeouts/t").then().statusCode(200).body("spec.to[0].default.idleTimeout",
        equalTo("10s"));
  }

  @Test
  void kumaDocsExamplesAreAcceptedVerbatim() throws IOException {
    mesh("default");
    given().contentType(YAML).body(resource("/kuma-docs/meshtrafficpermission-allow-orders.universal.yaml"))
        .put("/meshes/default/meshtrafficpermissions/allow-orders").then().statusCode(201);
    given().contentType(YAML).body(resource("/kuma-docs/meshgateway-tls-termination.universal.yaml"))
        .put("/meshes/default/meshgateways/edge-gateway").then().statusCode(201);
  }

  @Test
  void listsPaginateLikeKumaAndFilterByLabel() {
    mesh("pages");
    for (int i = 0; i < 5; i++) {
      given().contentType(YAML).body("""
          type: Secret
          mesh: pages
          name: s-%d
          labels: {team: %s}
          data: dmFsdWU=
          """.formatted(i, i % 2 == 0 ? "even" : "odd")).put("/meshes/pages/secrets/s-" + i).then().statusCode(201);
    }
    given().queryParam("size", 2).queryParam("offset", 2).get("/meshes/pages/secrets").then().statusCode(200)
        .body("total", equalTo(5)).body("items", hasSize(2)).body("items[0].name", equalTo("s-2"))
        .body("next", containsString("offset=4"));
    given().queryParam("size", 2).queryParam("offset", 4).get("/meshes/pages/secrets").then()
        .body("items", hasSize(1)).body("next", nullValue());
    given().queryParam("label", "team:even").get("/meshes/pages/secrets").then()
        .body("total", equalTo(3));
    given().queryParam("filter[label.team]", "odd").get("/meshes/pages/secrets").then()
        .body("total", equalTo(2));
    given().queryParam("size", "lots").get("/meshes/pages/secrets").then().statusCode(400)
        .body("invalid_parameters[0].field", equalTo("size"))
        .body("invalid_parameters[0].reason", containsString("expected: 1..1000"));
    given().get("/meshes").then().statusCode(200).body("items.name", hasItem("pages"));
  }

  @Test
  void invalidResourcesListEveryFieldWithTheExpectedForm() {
    mesh("bad");
    given().contentType(YAML).body("""
        type: MeshGateway
        mesh: bad
        name: gw
        selectors:
          - match: {kuma.io/service: edge}
        conf:
          listeners:
            - port: 70000
              protocol: HTTP
            - port: 8080
              protocol: SMTP
        """).put("/meshes/bad/meshgateways/gw").then().statusCode(400)
        .body("invalid_parameters.field", hasItem(containsString("listeners[1].protocol")))
        .body("invalid_parameters.reason", hasItem(containsString("expected")))
        .body(not(containsString("Exception")));
  }

  @Test
  void nameAndTypeMustMatchThePath() {
    mesh("paths");
    given().contentType(YAML).body("type: Secret\nmesh: paths\nname: other\ndata: dmFsdWU=\n")
        .put("/meshes/paths/secrets/one").then().statusCode(400)
        .body("invalid_parameters[0].field", equalTo("name"))
        .body("invalid_parameters[0].reason", containsString("expected: one"));
  }

  @Test
  void unknownMeshTypeAndNameAre404() {
    given().get("/meshes/nope/dataplanes").then().statusCode(404).body("detail", containsString("Mesh nope"));
    mesh("known");
    given().get("/meshes/known/widgets").then().statusCode(404).body("detail", containsString("widgets"));
    given().get("/meshes/known/dataplanes/ghost").then().statusCode(404);
  }

  @Test
  void otherContentTypesAre415AndHugeBodiesAre413() {
    mesh("limits");
    given().contentType("text/plain").body("type: Mesh").put("/meshes/limits").then().statusCode(415);
    String huge = "type: Secret\nmesh: limits\nname: big\ndata: " + "A".repeat(1_200_000) + "\n";
    given().contentType(YAML).body(huge).put("/meshes/limits/secrets/big").then().statusCode(413);
  }

  @Test
  void inspectShowsMatchedPoliciesRulesAndAffectedDataplanes() {
    mesh("insp");
    dataplane("insp", "web-1", "web", "10.0.0.1");
    dataplane("insp", "backend-1", "backend", "10.0.0.2");
    given().contentType(YAML).body("""
        type: MeshTimeout
        mesh: insp
        name: web-timeouts
        spec:
          targetRef: {kind: MeshService, name: web}
          to:
            - targetRef: {kind: MeshService, name: backend}
              default: {idleTimeout: 5s}
        """).put("/meshes/insp/meshtimeouts/web-timeouts").then().statusCode(201);
    given().get("/meshes/insp/dataplanes/web-1/_policies").then().statusCode(200)
        .body("outbounds[0].service", equalTo("backend"))
        .body("outbounds[0].endpoints", equalTo(1))
        .body("outbounds[0].policies[0].type", equalTo("MeshTimeout"))
        .body("outbounds[0].policies[0].applied", hasItem("web-timeouts"));
    given().get("/meshes/insp/dataplanes/web-1/_rules").then().statusCode(200)
        .body("outbounds[0].policies[0].rules[0].conf.idleTimeout", equalTo("5s"));
    given().get("/meshes/insp/meshtimeouts/web-timeouts/_resources/dataplanes").then().statusCode(200)
        .body("total", equalTo(1)).body("items[0].name", equalTo("web-1"));
    given().get("/meshes/insp/dataplanes/ghost/_rules").then().statusCode(404);
  }

  @Test
  void deletingAMeshDeletesItsResources() {
    mesh("gone");
    dataplane("gone", "web-1", "web", "10.0.0.1");
    given().delete("/meshes/gone").then().statusCode(200);
    given().get("/meshes/gone").then().statusCode(404);
    mesh("gone");
    given().get("/meshes/gone/dataplanes").then().body("total", equalTo(0));
  }
}
