package io.trellis.policy.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trellis.api.validation.FieldError;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * Error body in Kuma 2.x's shape: {@code status}, {@code title}, {@code detail} and, for bad input, one
 * {@code invalid_parameters} entry per field with the value and the expected form in {@code reason}.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ApiError(
    int status, String title, String detail, @JsonProperty("invalid_parameters") List<InvalidParameter> invalid) {

  public record InvalidParameter(String field, String reason) {}

  public static Response response(int status, String title, String detail) {
    return Response.status(status).type(MediaType.APPLICATION_JSON)
        .entity(new ApiError(status, title, detail, List.of())).build();
  }

  public static Response badRequest(List<FieldError> errors) {
    List<InvalidParameter> params = errors.stream()
        .map(e -> new InvalidParameter(e.path().isEmpty() ? "(document)" : e.path(), e.message())).toList();
    return Response.status(400).type(MediaType.APPLICATION_JSON)
        .entity(new ApiError(400, "Bad Request", "resource is not valid", params)).build();
  }
}
