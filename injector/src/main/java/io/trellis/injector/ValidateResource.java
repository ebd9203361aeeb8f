package io.trellis.injector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.validation.FieldError;
import io.trellis.api.validation.ValidationException;
import io.trellis.api.validation.Validators;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * {@code POST /validate}: the validating admission webhook for {@code kuma.io} resources (and
 * Secrets of type {@code system.kuma.io/secret}). Refuses invalid resources with the api/
 * validators' field-path messages, every problem at once.
 */
@Path("/validate")
public class ValidateResource {
  private static final Logger LOG = Logger.getLogger(ValidateResource.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final ResourceCodec codec = new ResourceCodec();
  private final AdmissionMetrics metrics;

  ValidateResource(AdmissionMetrics metrics) {
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
      metrics.record("validate", "bad-request", start);
      return Response.status(400).entity(AdmissionReviews.badRequest(e.getMessage())).build();
    }
    String uid = request.get("uid").asText();
    String result = "error";
    try {
      JsonNode object = request.get("object");
      String group = request.path("kind").path("group").asText();
      boolean kumaSecret = group.isEmpty() && "Secret".equals(request.path("kind").path("kind").asText())
          && object != null && ResourceCodec.SECRET_TYPE.equals(object.path("type").asText());
      if ("DELETE".equals(request.path("operation").asText()) || object == null || object.isNull()
          || (!"kuma.io".equals(group) && !kumaSecret)) {
        result = "skipped";
        return Response.ok(AdmissionReviews.allowed(uid, null)).build();
      }
      List<FieldError> errors;
      try {
        Resource resource = codec.readKubernetes(object);
        errors = Validators.validate(resource);
      } catch (ValidationException e) {
        errors = e.errors();
      }
      if (errors.isEmpty()) {
        result = "allowed";
        return Response.ok(AdmissionReviews.allowed(uid, null)).build();
      }
      result = "rejected";
      String message = errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
      ObjectNode review = AdmissionReviews.denied(uid, 422, message);
      // Kubernetes shows causes field by field (kubectl prints them under the message).
      ObjectNode details = ((ObjectNode) review.get("response").get("status")).putObject("details");
      details.put("name", object.path("metadata").path("name").asText());
      details.put("group", group.isEmpty() ? "" : group);
      details.put("kind", request.path("kind").path("kind").asText());
      ArrayNode causes = details.putArray("causes");
      for (FieldError e : errors) {
        causes.addObject().put("reason", "FieldValueInvalid").put("field", e.path()).put("message", e.message());
      }
      return Response.ok(review).build();
    } catch (RuntimeException e) {
      // Fail closed: an unexpected failure refuses the resource rather than storing it unchecked.
      LOG.errorf(e, "validation failed for request %s", uid);
      return Response.ok(AdmissionReviews.denied(uid, 500, "validation failed: " + e.getMessage())).build();
    } finally {
      metrics.record("validate", result, start);
    }
  }
}
