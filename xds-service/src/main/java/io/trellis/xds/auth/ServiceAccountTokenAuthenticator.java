package io.trellis.xds.auth;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.trellis.xds.ProxyRef;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Kubernetes mode: the proxy presents its pod's (projected) ServiceAccount token. The token is checked
 * with a TokenReview, then matched against the pod behind the Dataplane: Dataplane {@code <pod>.<namespace>}
 * (Kuma's naming of a pod's Dataplane) may only be served to the ServiceAccount that pod runs as, in the
 * pod's namespace, and only in the pod's mesh ({@code kuma.io/mesh} on the pod or its namespace, else
 * {@code default}). Everything that cannot be established refuses the stream; an API server that cannot
 * be asked refuses with UNAVAILABLE, so the proxy retries.
 */
public final class ServiceAccountTokenAuthenticator implements ProxyAuthenticator {
  static final String SA_PREFIX = "system:serviceaccount:";
  static final String MESH_KEY = "kuma.io/mesh";

  private final KubernetesClient client;
  private final List<String> audiences;
  private final Executor executor;
  private final TokenReviewCache reviews;

  /** @param cacheTtl how long a successful TokenReview is reused (see {@link TokenReviewCache}); zero: never */
  public ServiceAccountTokenAuthenticator(KubernetesClient client, List<String> audiences, Executor executor,
      java.time.Duration cacheTtl) {
    this(client, audiences, executor, TokenReviewCache.of(cacheTtl));
  }

  ServiceAccountTokenAuthenticator(KubernetesClient client, List<String> audiences, Executor executor, TokenReviewCache reviews) {
    this.client = client;
    this.audiences = List.copyOf(audiences);
    this.executor = executor;
    this.reviews = reviews;
  }

  @Override
  public CompletionStage<Void> authenticate(String token, ProxyRef proxy) {
    if (token == null || token.isBlank()) {
      // no credential, no API call
      return CompletableFuture.failedFuture(Status.UNAUTHENTICATED.withDescription(
          "service account token: missing (expected: authorization: Bearer <the pod's ServiceAccount token>)").asRuntimeException());
    }
    int dot = proxy.name().lastIndexOf('.');
    if (dot <= 0 || dot == proxy.name().length() - 1) {
      return CompletableFuture.failedFuture(Status.PERMISSION_DENIED.withDescription("node.id: " + proxy.nodeId()
          + " (expected: <mesh>.<pod>.<namespace>, the Dataplane of a pod)").asRuntimeException());
    }
    String pod = proxy.name().substring(0, dot);
    String namespace = proxy.name().substring(dot + 1);
    return CompletableFuture.runAsync(() -> check(token.trim(), proxy, pod, namespace), executor);
  }

  private void check(String token, ProxyRef proxy, String podName, String namespace) {
    String user = reviews.user(token);
    if (user == null) {
      user = review(token);
      reviews.remember(token, user);
    }
    checkPod(user, proxy, podName, namespace);
  }

  /** Asks the API server; returns the authenticated user or throws. */
  private String review(String token) {
    TokenReview review;
    try {
      review = client.authentication().v1().tokenReviews().create(new TokenReviewBuilder()
          .withNewSpec().withToken(token).withAudiences(audiences.isEmpty() ? null : audiences).endSpec().build());
    } catch (KubernetesClientException e) {
      throw unavailable("TokenReview failed (HTTP " + e.getCode() + ")");
    }
    if (review == null || review.getStatus() == null || !Boolean.TRUE.equals(review.getStatus().getAuthenticated())) {
      String why = review == null || review.getStatus() == null || review.getStatus().getError() == null ? "not authenticated"
          : review.getStatus().getError();
      throw Status.UNAUTHENTICATED.withDescription("service account token: rejected by the Kubernetes API (" + why + ")")
          .asRuntimeException();
    }
    String user = review.getStatus().getUser() == null ? null : review.getStatus().getUser().getUsername();
    return user == null ? "" : user;
  }

  private void checkPod(String user, ProxyRef proxy, String podName, String namespace) {
    String[] parts = user.split(":");
    if (!user.startsWith(SA_PREFIX) || parts.length != 4) {
      throw Status.PERMISSION_DENIED.withDescription("service account token: user " + user
          + " (expected: " + SA_PREFIX + "<namespace>:<name>)").asRuntimeException();
    }
    String saNamespace = parts[2];
    String saName = parts[3];
    Pod pod;
    try {
      pod = client.pods().inNamespace(namespace).withName(podName).get();
    } catch (KubernetesClientException e) {
      throw unavailable("reading pod " + namespace + "/" + podName + " failed (HTTP " + e.getCode() + ")");
    }
    if (pod == null) {
      throw Status.PERMISSION_DENIED.withDescription("node.id: " + proxy.nodeId() + " (expected: the Dataplane of an existing pod; pod "
          + namespace + "/" + podName + " not found)").asRuntimeException();
    }
    String podSa = pod.getSpec() == null || pod.getSpec().getServiceAccountName() == null
        || pod.getSpec().getServiceAccountName().isEmpty() ? "default" : pod.getSpec().getServiceAccountName();
    if (!saNamespace.equals(namespace) || !saName.equals(podSa)) {
      throw Status.PERMISSION_DENIED.withDescription("service account token: " + saNamespace + "/" + saName
          + " may not act as Dataplane " + proxy.name() + " (expected: the pod's service account " + namespace + "/" + podSa + ")")
          .asRuntimeException();
    }
    String mesh = meshOf(pod);
    if (mesh == null) {
      try {
        mesh = meshOf(client.namespaces().withName(namespace).get());
      } catch (KubernetesClientException e) {
        throw unavailable("reading namespace " + namespace + " failed (HTTP " + e.getCode() + ")");
      }
    }
    mesh = mesh == null ? "default" : mesh;
    if (!mesh.equals(proxy.mesh())) {
      throw Status.PERMISSION_DENIED.withDescription("node.id: " + proxy.nodeId() + " (expected: mesh " + mesh
          + " of pod " + namespace + "/" + podName + ")").asRuntimeException();
    }
  }

  private static String meshOf(HasMetadata resource) {
    if (resource == null || resource.getMetadata() == null) {
      return null;
    }
    for (Map<String, String> m : new java.util.ArrayList<>(java.util.Arrays.asList(resource.getMetadata().getAnnotations(),
        resource.getMetadata().getLabels()))) {
      if (m != null && m.get(MESH_KEY) != null && !m.get(MESH_KEY).isBlank()) {
        return m.get(MESH_KEY);
      }
    }
    return null;
  }

  private static StatusRuntimeException unavailable(String what) {
    return Status.UNAVAILABLE.withDescription("service account token: " + what + "; cannot verify, refusing").asRuntimeException();
  }

  @Override
  public boolean ready() {
    return true;
  }

  @Override
  public String state() {
    return "kubernetes TokenReview";
  }
}
