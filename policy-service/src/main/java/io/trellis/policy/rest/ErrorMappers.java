package io.trellis.policy.rest;

import io.trellis.api.validation.ValidationException;
import io.trellis.policy.store.ConflictException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every failure becomes a JSON error body; stack traces only go to the log. */
public class ErrorMappers {
  private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

  @ServerExceptionMapper
  public Response validation(ValidationException e) {
    return ApiError.badRequest(e.errors());
  }

  @ServerExceptionMapper
  public Response conflict(ConflictException e) {
    return ApiError.response(409, "Conflict", e.getMessage());
  }

  @ServerExceptionMapper
  public Response notFound(NotFound e) {
    return ApiError.response(404, "Not Found", e.getMessage());
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e) {
    int status = e.getResponse().getStatus();
    String detail = switch (status) {
      case 415 -> "Content-Type not supported (expected: application/json or application/yaml)";
      case 413 -> "body too large (expected: at most 1 MiB)";
      case 404 -> "not found";
      case 405 -> "method not allowed";
      default -> e.getMessage();
    };
    return ApiError.response(status, e.getResponse().getStatusInfo().getReasonPhrase(), detail);
  }

  @ServerExceptionMapper
  public Response other(RuntimeException e) {
    LOG.error("request failed", e);
    return ApiError.response(500, "Internal Server Error", "the request could not be completed; see the server log");
  }

  /** A mesh, type or resource that does not exist. */
  public static final class NotFound extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NotFound(String message) {
      super(message, null, false, false);
    }
  }
}
