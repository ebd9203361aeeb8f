package io.trellis.policy.rest;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.PolicySpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.validation.FieldError;
import io.trellis.api.validation.ValidationException;
import io.trellis.api.validation.Validators;
import io.trellis.policy.matching.TargetRefs;
import io.trellis.policy.rest.ErrorMappers.NotFound;
import io.trellis.policy.service.ResourceCache;
import io.trellis.policy.store.ResourceStore;
import io.trellis.policy.view.MeshSnapshot;
import io.trellis.policy.view.ProxyViewBuilder;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kuma's REST API on resources ({@code /meshes}, {@code /meshes/{mesh}/{type}/{name}}) and the inspect endpoints.
 * Unauthenticated for now, like Kuma's localhost API: bind it to a trusted network only.
 */
@Path("/meshes")
@Produces(MediaType.APPLICATION_JSON)
public class MeshesResource {
  static final int DEFAULT_SIZE = 100;
  static final int MAX_SIZE = 1000;

  @Inject ResourceStore store;
  @Inject ResourceCache cache;
  @Inject ResourceCodec codec;
  @Context UriInfo uri;

  @GET
  public String listMeshes() {
    return list(ResourceType.MESH, null);
  }

  @GET
  @Path("{name}")
  public Response getMesh(@PathParam("name") String name) {
    return get(ResourceType.MESH, null, name);
  }

  @PUT
  @Path("{name}")
  @Consumes({MediaType.APPLICATION_JSON, "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
  public Response putMesh(@PathParam("name") String name, @HeaderParam("If-Match") String ifMatch, String body) {
    return put(ResourceType.MESH, null, name, ifMatch, body);
  }

  @DELETE
  @Path("{name}")
  public Response deleteMesh(@PathParam("name") String name, @HeaderParam("If-Match") String ifMatch) {
    return delete(ResourceType.MESH, null, name, ifMatch);
  }

  @GET
  @Path("{mesh}/{type}")
  public String listResources(@PathParam("mesh") String mesh, @PathParam("type") String type) {
    requireMesh(mesh);
    return list(type(type), mesh);
  }

  @GET
  @Path("{mesh}/{type}/{name}")
  public Response getResource(@PathParam("mesh") String mesh, @PathParam("type") String type,
      @PathParam("name") String name) {
    requireMesh(mesh);
    return get(type(type), mesh, name);
  }

  @PUT
  @Path("{mesh}/{type}/{name}")
  @Consumes({MediaType.APPLICATION_JSON, "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
  public Response putResource(@PathParam("mesh") String mesh, @PathParam("type") String type,
      @PathParam("name") String name, @HeaderParam("If-Match") String ifMatch, String body) {
    ResourceType t = type(type);
    requireMesh(mesh);
    return put(t, mesh, name, ifMatch, body);
  }

  @DELETE
  @Path("{mesh}/{type}/{name}")
  public Response deleteResource(@PathParam("mesh") String mesh, @PathParam("type") String type,
      @PathParam("name") String name, @HeaderParam("If-Match") String ifMatch) {
    ResourceType t = type(type);
    requireMesh(mesh);
    return delete(t, mesh, name, ifMatch);
  }

  @GET
  @Path("{mesh}/dataplanes/{name}/_policies")
  public String inspectPolicies(@PathParam("mesh") String mesh, @PathParam("name") String name) {
    return inspect(mesh, name, false);
  }

  @GET
  @Path("{mesh}/dataplanes/{name}/_rules")
  public String inspectRules(@PathParam("mesh") String mesh, @PathParam("name") String name) {
    return inspect(mesh, name, true);
  }

  /** Dataplanes whose proxy the policy's top-level targetRef selects. */
  @GET
  @Path("{mesh}/{type}/{name}/_resources/dataplanes")
  public String affectedDataplanes(@PathParam("mesh") String mesh, @PathParam("type") String type,
      @PathParam("name") String name) {
    ResourceType t = type(type);
    requireMesh(mesh);
    if (!t.isPolicy()) {
      throw new ValidationException("type", type + " (expected: a policy type, e.g. meshtrafficpermissions)");
    }
    Resource policy = store.get(t, mesh, name)
        .orElseThrow(() -> new NotFound(t.kumaName() + " " + mesh + "/" + name + " not found"));
    MeshSnapshot snap = cache.snapshot(mesh);
    ObjectNode out = codec.jsonMapper().createObjectNode();
    ArrayNode items = codec.jsonMapper().createArrayNode();
    for (Resource dp : snap.dataplanes()) {
      DataplaneSpec spec = dp.spec(DataplaneSpec.class);
      boolean gateway = spec.networking() != null && spec.networking().gateway() != null;
      Resource bound = ProxyViewBuilder.boundGateway(snap, spec.networking());
      String gatewayName = bound == null ? null : bound.name();
      if (TargetRefs.selectsProxy(((PolicySpec) policy.spec()).targetRef(),
          new TargetRefs.ProxyInfo(dp.name(), dp.meta().labels(), spec, gatewayName, gateway))) {
        ObjectNode item = items.addObject();
        item.put("mesh", mesh);
        item.put("name", dp.name());
      }
    }
    out.put("total", items.size());
    out.set("items", items);
    out.putNull("next");
    return out.toString();
  }

  private String inspect(String mesh, String name, boolean rules) {
    requireMesh(mesh);
    var view = ProxyViewBuilder.build(cache.snapshot(mesh), name)
        .orElseThrow(() -> new NotFound("Dataplane " + mesh + "/" + name + " not found"));
    return Inspection.render(view, rules, codec.jsonMapper()).toString();
  }

  private String list(ResourceType type, String mesh) {
    Map<String, List<String>> query = uri.getQueryParameters();
    int offset = intParam(query, "offset", 0, 0, Integer.MAX_VALUE);
    int size = intParam(query, "size", DEFAULT_SIZE, 1, MAX_SIZE);
    Map<String, String> labels = new LinkedHashMap<>();
    List<FieldError> errors = new ArrayList<>();
    for (String l : query.getOrDefault("label", List.of())) {
      int colon = l.indexOf(':');
      if (colon <= 0) {
        errors.add(new FieldError("label", "'" + l + "' (expected: key:value)"));
      } else {
        labels.put(l.substring(0, colon), l.substring(colon + 1));
      }
    }
    for (Map.Entry<String, List<String>> e : query.entrySet()) {
      // Kuma's form: filter[label.<key>]=<value>
      if (e.getKey().startsWith("filter[label.") && e.getKey().endsWith("]") && !e.getValue().isEmpty()) {
        labels.put(e.getKey().substring("filter[label.".length(), e.getKey().length() - 1), e.getValue().get(0));
      }
    }
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    ResourceStore.Page page = store.list(type, mesh, labels, offset, size);
    ObjectNode out = codec.jsonMapper().createObjectNode();
    out.put("total", page.total());
    ArrayNode items = out.putArray("items");
    page.items().forEach(r -> items.add(codec.toUniversalNode(r)));
    if (offset + page.items().size() < page.total()) {
      out.put("next", uri.getRequestUriBuilder().replaceQueryParam("offset", offset + page.items().size())
          .replaceQueryParam("size", size).build().toString());
    } else {
      out.putNull("next");
    }
    return out.toString();
  }

  private Response get(ResourceType type, String mesh, String name) {
    Resource r = store.get(type, mesh, name).orElseThrow(() -> new NotFound(
        type.kumaName() + " " + (mesh == null ? "" : mesh + "/") + name + " not found"));
    return Response.ok(codec.writeUniversalJson(r)).tag(Long.toString(r.meta().version())).build();
  }

  private Response put(ResourceType type, String mesh, String name, String ifMatch, String body) {
    if (body == null || body.isBlank()) {
      throw new ValidationException("", "empty body (expected: a " + type.kumaName() + " in universal YAML or JSON)");
    }
    Resource parsed = codec.read(body);
    List<FieldError> errors = new ArrayList<>();
    if (parsed.type() != type) {
      errors.add(new FieldError("type", parsed.type().kumaName() + " (expected: " + type.kumaName()
          + " as in the path)"));
    }
    if (!name.equals(parsed.name())) {
      errors.add(new FieldError("name", parsed.name() + " (expected: " + name + " as in the path)"));
    }
    if (type.isMeshScoped() && parsed.mesh() != null && !parsed.mesh().equals(mesh)) {
      errors.add(new FieldError("mesh", parsed.mesh() + " (expected: " + mesh + " as in the path)"));
    }
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    Meta meta = parsed.meta();
    Resource resource = new Resource(type, new Meta(type.isMeshScoped() ? mesh : null, name, meta.labels(),
        meta.version(), null, null), parsed.spec());
    Validators.requireValid(resource);
    long expected = expectedVersion(ifMatch, meta.version());
    boolean existed = store.get(type, mesh, name).isPresent();
    Resource stored = store.put(resource, expected);
    return Response.status(existed ? 200 : 201).entity(codec.writeUniversalJson(stored))
        .tag(Long.toString(stored.meta().version())).build();
  }

  private Response delete(ResourceType type, String mesh, String name, String ifMatch) {
    if (!store.delete(type, mesh, name, expectedVersion(ifMatch, 0))) {
      throw new NotFound(type.kumaName() + " " + (mesh == null ? "" : mesh + "/") + name + " not found");
    }
    return Response.ok("{}").build();
  }

  /** {@code If-Match: "<version>"} (or a Kubernetes resourceVersion in the body) makes the write conditional. */
  private static long expectedVersion(String ifMatch, long bodyVersion) {
    if (ifMatch == null || ifMatch.isBlank() || ifMatch.trim().equals("*")) {
      return bodyVersion > 0 ? bodyVersion : ResourceStore.ANY_VERSION;
    }
    String v = ifMatch.trim().replaceAll("^(W/)?\"|\"$", "");
    if (!v.matches("\\d{1,18}") || Long.parseLong(v) == 0) {
      throw new ValidationException("If-Match", "'" + ifMatch + "' (expected: the resource version, e.g. \"3\")");
    }
    return Long.parseLong(v);
  }

  private void requireMesh(String mesh) {
    if (store.get(ResourceType.MESH, null, mesh).isEmpty()) {
      throw new NotFound("Mesh " + mesh + " not found");
    }
  }

  private static ResourceType type(String path) {
    ResourceType t = ResourceType.fromPath(path).orElseThrow(() -> new NotFound("type: " + path
        + " unknown (expected: a collection such as dataplanes, meshtrafficpermissions, meshgateways)"));
    if (t == ResourceType.MESH) {
      throw new NotFound("type: meshes (expected: a mesh-scoped collection)");
    }
    return t;
  }

  private static int intParam(Map<String, List<String>> query, String name, int def, int min, int max) {
    List<String> values = query.get(name);
    if (values == null || values.isEmpty() || values.get(0).isEmpty()) {
      return def;
    }
    try {
      int v = Integer.parseInt(values.get(0));
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new ValidationException(name, "'" + values.get(0) + "' (expected: " + min + ".." + max + ")");
  }
}
