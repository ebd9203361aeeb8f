package io.trellis.injector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Reading {@code admission.k8s.io/v1} AdmissionReview requests and writing their responses. */
final class AdmissionReviews {
  static final String API_VERSION = "admission.k8s.io/v1";

  private AdmissionReviews() {}

  /** The {@code request} of a well-formed AdmissionReview, or an {@link AdmissionException} naming what is wrong. */
  static JsonNode request(ObjectMapper mapper, String body) {
    JsonNode review;
    try {
      review = body == null || body.isBlank() ? null : mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw new AdmissionException("body: not JSON (expected: an admission.k8s.io/v1 AdmissionReview): "
          + e.getOriginalMessage());
    }
    if (review == null || !review.isObject()) {
      throw new AdmissionException("body: empty or not an object (expected: an admission.k8s.io/v1 AdmissionReview)");
    }
    if (!API_VERSION.equals(review.path("apiVersion").asText()) || !"AdmissionReview".equals(review.path("kind").asText())) {
      throw new AdmissionException("apiVersion/kind: " + review.path("apiVersion").asText("<missing>") + "/"
          + review.path("kind").asText("<missing>") + " (expected: admission.k8s.io/v1 AdmissionReview)");
    }
    JsonNode request = review.get("request");
    if (request == null || !request.isObject()) {
      throw new AdmissionException("request: missing (expected: an object with uid, kind, operation and object)");
    }
    if (!request.path("uid").isTextual() || request.path("uid").asText().isEmpty()) {
      throw new AdmissionException("request.uid: missing (expected: the request's UID)");
    }
    return request;
  }

  static ObjectNode allowed(String uid, String message) {
    ObjectNode response = response(uid, true);
    if (message != null) {
      // warnings are shown by kubectl; a plain allowed response carries no message otherwise
      response.putObject("status").put("message", message);
    }
    return wrap(response);
  }

  static ObjectNode patched(String uid, JsonNode jsonPatch) {
    ObjectNode response = response(uid, true);
    response.put("patchType", "JSONPatch");
    response.put("patch", Base64.getEncoder().encodeToString(jsonPatch.toString().getBytes(StandardCharsets.UTF_8)));
    return wrap(response);
  }

  static ObjectNode denied(String uid, int code, String message) {
    ObjectNode response = response(uid, false);
    ObjectNode status = response.putObject("status");
    status.put("code", code);
    status.put("reason", code == 422 ? "Invalid" : "Forbidden");
    status.put("message", message);
    return wrap(response);
  }

  private static ObjectNode response(String uid, boolean allowed) {
    ObjectNode response = JsonNodeFactory.instance.objectNode();
    response.put("uid", uid);
    response.put("allowed", allowed);
    return response;
  }

  private static ObjectNode wrap(ObjectNode response) {
    ObjectNode review = JsonNodeFactory.instance.objectNode();
    review.put("apiVersion", API_VERSION);
    review.put("kind", "AdmissionReview");
    review.set("response", response);
    return review;
  }

  static ObjectNode badRequest(String reason) {
    ObjectNode error = JsonNodeFactory.instance.objectNode();
    error.put("kind", "Status");
    error.put("apiVersion", "v1");
    error.put("status", "Failure");
    error.put("code", 400);
    error.put("reason", "BadRequest");
    error.put("message", reason);
    return error;
  }
}
