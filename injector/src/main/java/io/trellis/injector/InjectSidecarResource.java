package io.trellis.injector;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import io.trellis.injector.inject.Decision;
import io.trellis.injector.inject.PodInjector;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * {@code POST /inject-sidecar}: the mutating admission webhook for Pods. Malformed reviews get HTTP
 * 400; a pod that asks for injection but cannot get it gets {@code allowed: false} with the reason.
 * Any unexpected failure also denies the pod: a pod must never start silently without its sidecar.
 */
@Path("/inject-sidecar")
public class InjectSidecarResource {
  private static final Logger LOG = Logger.getLogger(InjectSidecarResource.class);
  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final InjectionSettingsProducer settings;
  private final NamespaceCache namespaces;
  private final AdmissionMetrics metrics;

  InjectSidecarResource(InjectionSettingsProducer settings, NamespaceCache namespaces, AdmissionMetrics metrics) {
    this.settings = settings;
    this.namespaces = namespaces;
    this.metrics = metrics;
  }

  @POST
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.APPLICATION_JSON)
  public Response review(String body) {
    long start = System.nanoTime();
    JsonNode request;
    try {
      request = AdmissionReviews.request(MAPPER, body);
    } catch (AdmissionException e) {
      metrics.record("inject-sidecar", "bad-request", start);
      return Response.status(400).entity(AdmissionReviews.badRequest(e.getMessage())).build();
    }
    String uid = request.get("uid").asText();
    String result = "error";
    try {
      JsonNode object = request.get("object");
      if (!"Pod".equals(request.path("kind").path("kind").asText()) || object == null || !object.isObject()) {
        result = "skipped";
        return ok(AdmissionReviews.allowed(uid, "not a Pod: nothing to inject"));
      }
      if (!"CREATE".equals(request.path("operation").asText("CREATE"))) {
        result = "skipped";
        return ok(AdmissionReviews.allowed(uid, null));
      }
      String namespace = request.path("namespace").asText(object.path("metadata").path("namespace").asText(""));
      Pod pod;
      try {
        pod = MAPPER.treeToValue(object, Pod.class);
      } catch (Exception e) {
        result = "rejected";
        return ok(AdmissionReviews.denied(uid, 400, "object: not a readable Pod (" + e.getMessage() + ")"));
      }
      Namespace ns;
      try {
        ns = namespace.isEmpty() ? null : namespaces.get(namespace);
      } catch (RuntimeException e) {
        // Without the namespace's labels we cannot know whether the pod must be injected: refuse.
        LOG.warnf("namespace %s could not be read: %s", namespace, e.getMessage());
        result = "error";
        return ok(AdmissionReviews.denied(uid, 503, "sidecar injection failed: namespace " + namespace
            + " could not be read from the Kubernetes API (its kuma.io/sidecar-injection label decides injection); retry"));
      }
      Map<String, String> nsLabels = ns == null || ns.getMetadata().getLabels() == null ? Map.of() : ns.getMetadata().getLabels();
      Map<String, String> nsAnnotations =
          ns == null || ns.getMetadata().getAnnotations() == null ? Map.of() : ns.getMetadata().getAnnotations();
      Decision decision = new PodInjector(settings.settings()).decide(pod, namespace, nsLabels, nsAnnotations);
      if (decision instanceof Decision.Skip skip) {
        result = "skipped";
        return ok(AdmissionReviews.allowed(uid, null));
      }
      if (decision instanceof Decision.Reject reject) {
        result = "rejected";
        LOG.infof("pod %s/%s refused: %s", namespace, podName(pod), reject.message());
        return ok(AdmissionReviews.denied(uid, 422, reject.message()));
      }
      Pod injected = ((Decision.Inject) decision).pod();
      // Diff against the pod as our model reads it, so the patch only carries what injection changed.
      JsonNode before = MAPPER.valueToTree(pod);
      JsonNode after = MAPPER.valueToTree(injected);
      JsonNode patch = JsonDiff.asJson(before, after, DiffFlags.dontNormalizeOpIntoMoveAndCopy());
      result = "injected";
      return ok(AdmissionReviews.patched(uid, patch));
    } catch (RuntimeException e) {
      // Fail closed: deny rather than let the pod run without its proxy.
      LOG.errorf(e, "injection failed for request %s", uid);
      result = "error";
      return ok(AdmissionReviews.denied(uid, 500, "sidecar injection failed: " + e.getMessage()));
    } finally {
      metrics.record("inject-sidecar", result, start);
    }
  }

  private static String podName(Pod pod) {
    if (pod.getMetadata() == null) {
      return "?";
    }
    return pod.getMetadata().getName() != null ? pod.getMetadata().getName() : pod.getMetadata().getGenerateName() + "*";
  }

  private static Response ok(Object entity) {
    return Response.ok(entity).build();
  }
}
