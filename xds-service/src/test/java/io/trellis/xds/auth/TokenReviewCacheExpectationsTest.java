package io.trellis.xds.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.grpc.StatusRuntimeException;
import io.trellis.xds.ProxyRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TokenReview cache against fabric8's mock API server in expectations mode: a reconnecting proxy costs no
 * second TokenReview while fresh, the pod is still checked every time, rejections and expired tokens are never
 * kept, and the token's own {@code exp} bounds the TTL.
 */
@EnableKubernetesMockClient(crud = false)
class TokenReviewCacheExpectationsTest {
  KubernetesMockServer server;
  KubernetesClient client;
  final AtomicInteger reviews = new AtomicInteger();
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final AtomicLong epochSeconds = new AtomicLong(1_800_000_000L);

  @BeforeEach
  void expectations() {
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReply(201, request -> {
      reviews.incrementAndGet();
      TokenReview r = Serialization.unmarshal(request.getUtf8Body(), TokenReview.class);
      boolean ok = !r.getSpec().getToken().startsWith("forged");
      return new TokenReviewBuilder(r).withNewStatus().withAuthenticated(ok).withError(ok ? null : "invalid bearer token")
          .withNewUser().withUsername(ok ? "system:serviceaccount:demo:web" : null).endUser().endStatus().build();
    }).always();
    server.expect().get().withPath("/api/v1/namespaces/demo/pods/web-1").andReturn(200, new PodBuilder().withNewMetadata()
        .withName("web-1").withNamespace("demo").endMetadata().withNewSpec().withServiceAccountName("web").endSpec().build()).always();
    server.expect().get().withPath("/api/v1/namespaces/demo/pods/db-1").andReturn(200, new PodBuilder().withNewMetadata()
        .withName("db-1").withNamespace("demo").endMetadata().withNewSpec().withServiceAccountName("db").endSpec().build()).always();
    server.expect().get().withPath("/api/v1/namespaces/demo").andReturn(200, "{\"metadata\":{\"name\":\"demo\"}}").always();
  }

  ServiceAccountTokenAuthenticator authenticator(Duration ttl) {
    return new ServiceAccountTokenAuthenticator(client, List.of("trellis-xds"), Runnable::run,
        new TokenReviewCache(ttl, nanos::get, epochSeconds::get));
  }

  static void auth(ServiceAccountTokenAuthenticator a, String token, String dataplane) {
    try {
      a.authenticate(token, new ProxyRef("default", dataplane)).toCompletableFuture().join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  static String jwt(long exp) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(("{\"sub\":\"system:serviceaccount:demo:web\",\"exp\":" + exp + "}").getBytes(StandardCharsets.UTF_8))
        + ".c2ln";
  }

  @Test
  void aFreshSuccessIsReusedButThePodIsCheckedEveryTime() {
    ServiceAccountTokenAuthenticator a = authenticator(Duration.ofSeconds(60));
    auth(a, "token-web", "web-1.demo");
    auth(a, "token-web", "web-1.demo");
    assertThat(reviews).hasValue(1);
    // cached user, but the pod behind this Dataplane runs as another account
    assertThatThrownBy(() -> auth(a, "token-web", "db-1.demo")).isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("may not act as Dataplane db-1.demo");
    assertThat(reviews).hasValue(1);
    nanos.addAndGet(Duration.ofSeconds(61).toNanos());
    auth(a, "token-web", "web-1.demo");
    assertThat(reviews).as("asked again after the TTL").hasValue(2);
  }

  @Test
  void rejectionsAreNeverKept() {
    ServiceAccountTokenAuthenticator a = authenticator(Duration.ofSeconds(60));
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> auth(a, "forged", "web-1.demo")).hasMessageContaining("invalid bearer token");
    }
    assertThat(reviews).hasValue(3);
  }

  @Test
  void theTokensExpiryBoundsTheTtl() {
    ServiceAccountTokenAuthenticator a = authenticator(Duration.ofSeconds(60));
    String token = jwt(epochSeconds.get() + 10);
    auth(a, token, "web-1.demo");
    nanos.addAndGet(Duration.ofSeconds(9).toNanos());
    auth(a, token, "web-1.demo");
    assertThat(reviews).hasValue(1);
    nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    auth(a, token, "web-1.demo");
    assertThat(reviews).as("past the token's exp the API server is asked again").hasValue(2);

    String expired = jwt(epochSeconds.get() - 1);
    auth(a, expired, "web-1.demo");
    auth(a, expired, "web-1.demo");
    assertThat(reviews).as("an already expired token is not kept").hasValue(4);
  }

  @Test
  void aZeroTtlDisablesTheCache() {
    ServiceAccountTokenAuthenticator a = authenticator(Duration.ZERO);
    auth(a, "token-web", "web-1.demo");
    auth(a, "token-web", "web-1.demo");
    assertThat(reviews).hasValue(2);
  }
}
