package io.trellis.ca;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.containsString;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.VerificationKey;
import io.trellis.api.ca.v1.VerificationKeys;
import io.trellis.api.ca.v1.VerificationKeysRequest;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.Await;
import io.trellis.ca.testing.CaClient;
import io.trellis.ca.testing.Csrs;
import io.trellis.ca.testing.FakePolicyResource;
import io.trellis.ca.testing.Openssl;
import io.trellis.ca.testing.TlsHandshake;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Dataplane tokens (REST issue, gRPC verification keys, use as Sign credentials) and server certificates. */
@QuarkusTest
@QuarkusTestResource(FakePolicyResource.class)
class AdminAndTokensIT {
  @TestHTTPResource
  URL url;

  CaClient client;

  @BeforeEach
  void connect() throws Exception {
    client = new CaClient(url);
    Await.until("ca-service ready", Duration.ofSeconds(30), () -> given().get("/q/health/ready").statusCode() == 200);
  }

  @AfterEach
  void close() throws Exception {
    client.close();
  }

  static String admin() {
    return "Bearer " + FakePolicyResource.serviceToken;
  }

  static String token(String mesh, String name, String service) {
    return given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"mesh\":\"" + mesh + "\",\"name\":\"" + name + "\",\"tags\":{\"kuma.io/service\":[\"" + service
            + "\"]},\"validFor\":\"1h\"}")
        .post("/tokens/dataplane").then().statusCode(200).extract().asString();
  }

  @Test
  void adminRestNeedsTheServiceTokenAndNamesBadFields() {
    given().contentType(ContentType.JSON).body("{\"mesh\":\"default\",\"name\":\"dp\"}").post("/tokens/dataplane")
        .then().statusCode(401).body("message", containsString("authorization: missing"));
    given().header("Authorization", "Bearer nope").contentType(ContentType.JSON).body("{}").post("/certificates/server")
        .then().statusCode(401);
    given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"mesh\":\"Bad Mesh\",\"name\":\"dp\"}").post("/tokens/dataplane")
        .then().statusCode(400).body("message", containsString("mesh: \"Bad Mesh\" (expected:"));
    given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"mesh\":\"default\",\"name\":\"dp\",\"validFor\":\"soon\"}").post("/tokens/dataplane")
        .then().statusCode(400).body("message", containsString("validFor: \"soon\""));
    given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"keyType\":\"dsa\",\"hostnames\":[\"a.example\"]}").post("/certificates/server")
        .then().statusCode(400).body("message", containsString("keyType: \"dsa\" (expected: rsa or ecdsa)"));
    given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"keyType\":\"rsa\",\"hostnames\":[\"bad host\"]}").post("/certificates/server")
        .then().statusCode(400).body("message", containsString("hostnames[0]: \"bad host\""));
  }

  @Test
  void dataplaneTokenMayOnlyAskForItsOwnIdentity() throws Exception {
    String web = token("default", "web-1", "web");
    SignResponse ok = client.ca(web).sign(CaClient.request("default", Csrs.csr(Csrs.p256()), "kuma.io/service", "web"));
    assertThat(ok.getBackend()).isEqualTo("ca-1");
    assertThatThrownBy(() -> client.ca(web).sign(CaClient.request("default", Csrs.csr(Csrs.p256()),
            "kuma.io/service", "billing")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("may not ask for tag kuma.io/service=billing");
        });
    String other = token("other", "web-1", "web");
    assertThatThrownBy(() -> client.ca(other).sign(CaClient.request("default", Csrs.csr(Csrs.p256()),
            "kuma.io/service", "web")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    // a dataplane cannot list verification keys
    BlockingQueue<Object> q = new LinkedBlockingQueue<>();
    client.tokensAsync(web).watchVerificationKeys(VerificationKeysRequest.getDefaultInstance(), observer(q));
    assertThat(q.poll(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void verificationKeysVerifyTokensLocallyAndStreamRevocationsAndRotation() throws Exception {
    String t = token("keys", "dp-1", "web");
    BlockingQueue<Object> q = new LinkedBlockingQueue<>();
    client.tokensAsync(FakePolicyResource.serviceToken)
        .watchVerificationKeys(VerificationKeysRequest.newBuilder().setMesh("keys").build(), observer(q));
    VerificationKeys first = (VerificationKeys) q.poll(10, TimeUnit.SECONDS);
    assertThat(first.getKeysList()).hasSize(1);
    VerificationKey key = first.getKeys(0);
    assertThat(key.getAlgorithm()).isEqualTo("ES256");
    // what xds-service does: verify the JWS with the published key, no call to ca-service
    String[] parts = t.split("\\.");
    String header = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
    assertThat(header).contains("\"kid\":\"" + key.getKid() + "\"");
    assertThat(verifyEs256(key.getPublicKeyPem(), parts)).isTrue();
    String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    assertThat(claims).contains("\"mesh\":\"keys\"", "\"name\":\"dp-1\"", "\"tags\":{\"kuma.io/service\":[\"web\"]}",
        "\"exp\":", "\"jti\":");
    String jti = claims.replaceAll(".*\"jti\":\"([^\"]+)\".*", "$1");

    given().header("Authorization", admin()).contentType(ContentType.JSON).body("{\"jti\":\"" + jti + "\"}")
        .post("/tokens/dataplane/keys/revocations").then().statusCode(200);
    VerificationKeys revoked = (VerificationKeys) q.poll(10, TimeUnit.SECONDS);
    assertThat(revoked.getRevokedTokenIdsList()).containsExactly(jti);
    assertThat(revoked.getVersion()).isGreaterThan(first.getVersion());
    assertThatThrownBy(() -> client.ca(t).getTrustBundle(
            io.trellis.api.ca.v1.TrustBundleRequest.newBuilder().setMesh("keys").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

    String before = token("keys", "dp-2", "web");
    given().header("Authorization", admin()).post("/tokens/dataplane/keys/signing-key/rotate").then().statusCode(200);
    VerificationKeys rotated = (VerificationKeys) q.poll(10, TimeUnit.SECONDS);
    assertThat(rotated.getKeysList()).hasSize(2);
    String after = token("keys", "dp-3", "web");
    assertThat(after.split("\\.")[0]).isNotEqualTo(before.split("\\.")[0]); // new kid
    // tokens signed before the rotation still verify until their key is retired
    assertThat(rotated.getKeysList()).anyMatch(k -> verifyEs256(k.getPublicKeyPem(), before.split("\\.")));
    assertThat(rotated.getKeysList()).anyMatch(k -> verifyEs256(k.getPublicKeyPem(), after.split("\\.")));
  }

  @Test
  void serverCertificatesForGatewayListeners() throws Exception {
    for (String type : new String[] {"rsa", "ecdsa"}) {
      var body = given().header("Authorization", admin()).contentType(ContentType.JSON)
          .body("{\"keyType\":\"" + type + "\",\"hostnames\":[\"gateway.example\",\"*.apps.example\",\"10.0.0.1\"]}")
          .post("/certificates/server").then().statusCode(200).extract().jsonPath();
      X509Certificate cert = Pem.readCertificates(body.getString("certificate")).get(0);
      var key = Pem.readPrivateKey(body.getString("key"));
      assertThat(Crypto.keysMatch(cert.getPublicKey(), key)).isTrue();
      assertThat(cert.getPublicKey()).isInstanceOf(type.equals("rsa") ? RSAPublicKey.class : ECPublicKey.class);
      assertThat(cert.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1))
          .containsExactly("gateway.example", "*.apps.example", "10.0.0.1");
      assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
      cert.verify(cert.getPublicKey());
    }
  }

  @Test
  void tlsCertificatesForGatewayListenersParseWithOpensslAndServeARealHandshake() throws Exception {
    for (String type : new String[] {"rsa", "ecdsa"}) {
      var body = given().header("Authorization", admin()).contentType(ContentType.JSON)
          .body("{\"type\":\"server\",\"keyType\":\"" + type + "\",\"hostnames\":[\"gateway.example\",\"10.0.0.1\"],"
              + "\"validFor\":\"720h\"}")
          .post("/tls-certificates").then().statusCode(200).extract().jsonPath();
      String text = Openssl.text(Files.createTempDirectory("tls"), body.getString("certificate"));
      assertThat(text).contains("DNS:gateway.example, IP Address:10.0.0.1").contains("TLS Web Server Authentication")
          .contains(type.equals("rsa") ? "rsaEncryption" : "id-ecPublicKey");
      X509Certificate cert = Pem.readCertificates(body.getString("certificate")).get(0);
      PrivateKey key = Pem.readPrivateKey(body.getString("key"));
      assertThat(Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()))
          .isBetween(Duration.ofHours(720), Duration.ofHours(721));
      TlsHandshake.run(cert, key, "gateway.example");
      assertThatThrownBy(() -> TlsHandshake.run(cert, key, "other.example"))
          .isInstanceOf(javax.net.ssl.SSLHandshakeException.class).hasMessageContaining("other.example");
    }
    var client = given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"type\":\"client\",\"keyType\":\"ecdsa\"}").post("/tls-certificates")
        .then().statusCode(200).extract().jsonPath();
    assertThat(Pem.readCertificates(client.getString("certificate")).get(0).getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.2");
    given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"type\":\"peer\",\"hostnames\":[\"a.example\"]}").post("/tls-certificates")
        .then().statusCode(400).body("message", containsString("type: \"peer\" (expected: server or client)"));
    given().header("Authorization", admin()).contentType(ContentType.JSON)
        .body("{\"type\":\"server\",\"keyType\":\"ecdsa\"}").post("/tls-certificates")
        .then().statusCode(400).body("message", containsString("hostnames: empty"));
    given().contentType(ContentType.JSON).body("{\"type\":\"server\",\"hostnames\":[\"a\"]}").post("/tls-certificates")
        .then().statusCode(401);
  }

  static boolean verifyEs256(String publicKeyPem, String[] parts) {
    try {
      String b64 = publicKeyPem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      PublicKey pk = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initVerify(pk);
      s.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      return s.verify(Base64.getUrlDecoder().decode(parts[2]));
    } catch (Exception e) {
      return false;
    }
  }

  static <T> io.grpc.stub.StreamObserver<T> observer(BlockingQueue<Object> q) {
    return new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(T value) {
        q.add(value);
      }

      @Override
      public void onError(Throwable t) {
        q.add(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
