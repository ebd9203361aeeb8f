package io.trellis.api.codec;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.model.SecretSpec;
import io.trellis.api.model.Spec;
import io.trellis.api.validation.FieldError;
import io.trellis.api.validation.ValidationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads and writes resources in Kuma's two forms, as YAML or JSON.
 *
 * <ul>
 *   <li>universal: {@code type}, {@code mesh}, {@code name}, {@code labels}, {@code creationTime},
 *       {@code modificationTime}, then {@code spec} (policies) or the kind's fields at the top
 *       level (Mesh, Dataplane, MeshGateway, MeshGatewayRoute, ExternalService, Secret);
 *   <li>Kubernetes: {@code apiVersion: kuma.io/v1alpha1}, {@code kind}, {@code metadata}, {@code
 *       spec}; Dataplane, MeshGateway, MeshGatewayRoute and ExternalService carry a top-level
 *       {@code mesh}, policies the {@code kuma.io/mesh} label; Secrets are {@code v1} Secrets of
 *       type {@code system.kuma.io/secret}.
 * </ul>
 *
 * <p>Reading checks structure only (unknown fields, types); use {@code Validators} for the rules.
 * Every bad input ends in a {@link ValidationException} whose errors name the field as it is
 * spelled in the document read, e.g. {@code spec.from[0].default.actoin: unknown field (expected
 * one of: action)}. Thread-safe.
 */
public final class ResourceCodec {
  public static final String KUMA_API_VERSION = "kuma.io/v1alpha1";
  public static final String MESH_LABEL = "kuma.io/mesh";
  public static final String SECRET_TYPE = "system.kuma.io/secret";

  private static final List<String> UNIVERSAL_META =
      List.of("type", "mesh", "name", "labels", "creationTime", "modificationTime");
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ObjectMapper json;
  private final ObjectMapper yaml;

  public ResourceCodec() {
    this.json = configure(JsonMapper.builder());
    this.yaml =
        configure(
            YAMLMapper.builder(
                YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                    .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
                    .stringQuotingChecker(YamlQuoting.INSTANCE)
                    .build()));
  }

  private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> M configure(B builder) {
    return builder
        .addModule(new Jdk8Module())
        .addModule(new UnmodifiableContainers())
        .serializationInclusion(JsonInclude.Include.NON_NULL)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        // a null list entry or map value is never meaningful in Kuma resources
        .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
  }

  /** The JSON mapper configured like the codec (no nulls written, unknown fields rejected). */
  public ObjectMapper jsonMapper() {
    return json;
  }

  // ---------------------------------------------------------------- reading

  /** Reads either form, YAML or JSON (detected). */
  public Resource read(String text) {
    JsonNode root = parse(text);
    requireObject(root);
    if (root.has("apiVersion") || root.has("kind")) {
      return readKubernetes(root);
    }
    if (root.has("type")) {
      return readUniversal(root);
    }
    throw new ValidationException(
        "type",
        "missing (expected: a resource type such as Mesh or "
            + "MeshTrafficPermission; or apiVersion and kind for a Kubernetes resource)");
  }

  /**
   * Reads every document of a multi-document YAML stream ({@code ---} separated), or one JSON
   * document. Errors of the n-th document (from 0) are prefixed with {@code documents[n].}.
   */
  public List<Resource> readAll(String text) {
    requireNonNull(text, "text");
    List<JsonNode> documents = new ArrayList<>();
    try (MappingIterator<JsonNode> it =
        (text.stripLeading().startsWith("{") ? json : yaml)
            .readerFor(JsonNode.class)
            .readValues(text)) {
      while (it.hasNextValue()) {
        JsonNode node = it.nextValue();
        if (node != null && !node.isNull() && !node.isMissingNode()) {
          documents.add(node);
        }
      }
    } catch (JacksonException e) {
      throw new ValidationException("", syntaxError(e));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen when reading a String
    }
    List<Resource> resources = new ArrayList<>();
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < documents.size(); i++) {
      try {
        JsonNode root = documents.get(i);
        requireObject(root);
        resources.add(
            root.has("apiVersion") || root.has("kind")
                ? readKubernetes(root)
                : readUniversal(root));
      } catch (ValidationException e) {
        for (FieldError error : e.errors()) {
          String path = "documents[" + i + "]" + (error.path().isEmpty() ? "" : "." + error.path());
          errors.add(new FieldError(path, error.message()));
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return resources;
  }

  /** Reads the universal form, YAML or JSON. */
  public Resource readUniversal(String text) {
    return readUniversal(parse(text));
  }

  /** Reads the Kubernetes form, YAML or JSON. */
  public Resource readKubernetes(String text) {
    return readKubernetes(parse(text));
  }

  /** Reads the universal form from a JSON tree. */
  public Resource readUniversal(JsonNode root) {
    List<FieldError> errors = new ArrayList<>();
    requireObject(root);
    String typeName = text(root, "type", "type", errors);
    if (typeName == null) {
      if (errors.isEmpty()) {
        errors.add(
            new FieldError("type", "missing (expected: one of " + ResourceType.allNames() + ")"));
      }
      throw new ValidationException(errors);
    }
    ResourceType type =
        ResourceType.fromName(typeName)
            .orElseThrow(
                () ->
                    new ValidationException(
                        "type",
                        quote(typeName) + " (expected: one of " + ResourceType.allNames() + ")"));
    Set<String> metaFields = new LinkedHashSet<>(UNIVERSAL_META);
    if (!type.isMeshScoped()) {
      metaFields.remove("mesh");
    }
    String mesh = type.isMeshScoped() ? text(root, "mesh", "mesh", errors) : null;
    String name = text(root, "name", "name", errors);
    Map<String, String> labels =
        new LinkedHashMap<>(stringMap(root.get("labels"), "labels", errors));
    if (mesh != null && mesh.equals(labels.get(MESH_LABEL))) {
      labels.remove(MESH_LABEL); // Kuma adds it; Meta.mesh carries it
    }
    Instant created = instant(root, "creationTime", "creationTime", errors);
    Instant modified = instant(root, "modificationTime", "modificationTime", errors);
    Spec spec = null;
    if (type.isSpecWrapped()) {
      Set<String> allowed = new LinkedHashSet<>(metaFields);
      allowed.add("spec");
      rejectUnknown(root, "", allowed, errors);
      if (errors.isEmpty()) {
        spec =
            convert(
                root.has("spec") ? root.get("spec") : NODES.objectNode(),
                type,
                "spec",
                Set.of(),
                errors);
      }
    } else if (errors.isEmpty()) {
      ObjectNode fields = NODES.objectNode();
      root.fields()
          .forEachRemaining(
              e -> {
                if (!metaFields.contains(e.getKey())) {
                  fields.set(e.getKey(), e.getValue());
                }
              });
      spec = convert(fields, type, "", metaFields, errors);
    }
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return new Resource(type, new Meta(mesh, name, labels, 0, created, modified), spec);
  }

  /**
   * Reads the Kubernetes form keeping {@code metadata.namespace} and {@code metadata.annotations}.
   */
  public KubernetesResource readKubernetesObject(String text) {
    JsonNode root = parse(text);
    Resource resource = readKubernetes(root);
    JsonNode metadata = root.get("metadata");
    List<FieldError> errors = new ArrayList<>();
    String namespace = text(metadata, "namespace", "metadata.namespace", errors);
    Map<String, String> annotations =
        stringMap(metadata.get("annotations"), "metadata.annotations", errors);
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return new KubernetesResource(resource, namespace, annotations);
  }

  /** Writes the Kubernetes form with the object's namespace and annotations. */
  public String writeKubernetesYaml(KubernetesResource object) {
    ObjectNode node = toKubernetesNode(object.resource(), object.namespace());
    if (!object.annotations().isEmpty()) {
      ((ObjectNode) node.get("metadata"))
          .set("annotations", json.valueToTree(object.annotations()));
    }
    return write(yaml, node);
  }

  /** Reads the Kubernetes form from a JSON tree. */
  public Resource readKubernetes(JsonNode root) {
    List<FieldError> errors = new ArrayList<>();
    requireObject(root);
    String apiVersion = text(root, "apiVersion", "apiVersion", errors);
    String kind = text(root, "kind", "kind", errors);
    if (kind == null) {
      errors.add(
          new FieldError("kind", "missing (expected: one of " + ResourceType.allNames() + ")"));
      throw new ValidationException(errors);
    }
    boolean coreSecret = "Secret".equals(kind) && "v1".equals(apiVersion);
    if (!coreSecret && !KUMA_API_VERSION.equals(apiVersion)) {
      errors.add(
          new FieldError(
              "apiVersion",
              (apiVersion == null ? "missing" : quote(apiVersion))
                  + " (expected: "
                  + KUMA_API_VERSION
                  + ")"));
      throw new ValidationException(errors);
    }
    ResourceType type =
        ResourceType.fromName(kind)
            .filter(t -> t != ResourceType.SECRET || coreSecret)
            .orElseThrow(
                () ->
                    new ValidationException(
                        "kind",
                        quote(kind) + " (expected: one of " + ResourceType.allNames() + ")"));
    JsonNode metadata = root.get("metadata");
    if (metadata == null || !metadata.isObject()) {
      errors.add(
          new FieldError("metadata", describe(metadata) + " (expected: an object with name)"));
      throw new ValidationException(errors);
    }
    String name = text(metadata, "name", "metadata.name", errors);
    if (name == null && errors.isEmpty()) {
      errors.add(new FieldError("metadata.name", "missing (expected: a name)"));
    }
    Map<String, String> labels =
        new LinkedHashMap<>(stringMap(metadata.get("labels"), "metadata.labels", errors));
    Instant created = instant(metadata, "creationTimestamp", "metadata.creationTimestamp", errors);
    long version = 0;
    JsonNode resourceVersion = metadata.get("resourceVersion");
    if (resourceVersion != null && resourceVersion.asText().matches("\\d{1,18}")) {
      version = Long.parseLong(resourceVersion.asText());
    }
    boolean meshField = type.isMeshScoped() && !type.isSpecWrapped() && type != ResourceType.SECRET;
    String mesh = null;
    if (meshField) {
      mesh = text(root, "mesh", "mesh", errors);
    } else if (type.isMeshScoped()) {
      mesh = labels.remove(MESH_LABEL);
    }
    if (type.isMeshScoped() && mesh == null) {
      mesh = "default"; // as Kuma on Kubernetes
    }
    Spec spec = null;
    if (coreSecret) {
      rejectUnknown(root, "", Set.of("apiVersion", "kind", "metadata", "data", "type"), errors);
      JsonNode typeNode = root.get("type");
      if (typeNode != null && !SECRET_TYPE.equals(typeNode.asText())) {
        errors.add(
            new FieldError("type", quote(typeNode.asText()) + " (expected: " + SECRET_TYPE + ")"));
      }
      JsonNode data = root.get("data");
      String value = data == null ? null : text(data, "value", "data.value", errors);
      if (value == null && errors.isEmpty()) {
        errors.add(new FieldError("data.value", "missing (expected: base64 data)"));
      }
      spec = new SecretSpec(value);
    } else {
      // status is written by controllers, never part of the desired state: accepted and dropped
      Set<String> allowed =
          new LinkedHashSet<>(List.of("apiVersion", "kind", "metadata", "spec", "status"));
      if (meshField) {
        allowed.add("mesh");
      }
      rejectUnknown(root, "", allowed, errors);
      if (errors.isEmpty()) {
        spec =
            convert(
                root.has("spec") ? root.get("spec") : NODES.objectNode(),
                type,
                "spec",
                Set.of(),
                errors);
      }
    }
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return new Resource(type, new Meta(mesh, name, labels, version, created, null), spec);
  }

  /**
   * Reads a spec from its JSON form ({@link #toJson(Spec)}): the universal {@code spec} / top-level
   * fields.
   */
  public Spec specFromJson(ResourceType type, String jsonText) {
    return specFromJson(type, parse(jsonText));
  }

  public Spec specFromJson(ResourceType type, JsonNode node) {
    List<FieldError> errors = new ArrayList<>();
    Spec spec = convert(node, type, "", Set.of(), errors);
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return spec;
  }

  /**
   * Parses YAML or JSON (JSON when the text starts with '{') into a tree; syntax errors name line
   * and column.
   */
  public JsonNode parse(String text) {
    requireNonNull(text, "text");
    boolean isJson = text.stripLeading().startsWith("{");
    JsonNode root;
    try {
      root = (isJson ? json : yaml).readTree(text);
    } catch (JacksonException e) {
      throw new ValidationException("", syntaxError(e));
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new ValidationException("", "empty document (expected: a resource)");
    }
    return root;
  }

  // ---------------------------------------------------------------- writing

  public String writeUniversalYaml(Resource resource) {
    return write(yaml, toUniversalNode(resource));
  }

  public String writeUniversalJson(Resource resource) {
    return write(json, toUniversalNode(resource));
  }

  public String writeKubernetesYaml(Resource resource, String namespace) {
    return write(yaml, toKubernetesNode(resource, namespace));
  }

  public String writeKubernetesJson(Resource resource, String namespace) {
    return write(json, toKubernetesNode(resource, namespace));
  }

  /**
   * The spec as compact JSON: what {@code spec:} holds (policies) or the top-level fields
   * (old-style kinds).
   */
  public String toJson(Spec spec) {
    return write(json, toJsonNode(spec));
  }

  public ObjectNode toJsonNode(Spec spec) {
    requireNonNull(spec, "spec");
    return json.valueToTree(spec);
  }

  /** The universal form as a tree. */
  public ObjectNode toUniversalNode(Resource resource) {
    ObjectNode out = NODES.objectNode();
    Meta meta = resource.meta();
    out.put("type", resource.type().kumaName());
    if (resource.type().isMeshScoped() && meta.mesh() != null) {
      out.put("mesh", meta.mesh());
    }
    if (meta.name() != null) {
      out.put("name", meta.name());
    }
    if (!meta.labels().isEmpty()) {
      out.set("labels", json.valueToTree(meta.labels()));
    }
    if (meta.creationTime() != null) {
      out.put("creationTime", meta.creationTime().toString());
    }
    if (meta.modificationTime() != null) {
      out.put("modificationTime", meta.modificationTime().toString());
    }
    ObjectNode spec = toJsonNode(resource.spec());
    if (resource.type().isSpecWrapped()) {
      out.set("spec", spec);
    } else {
      out.setAll(spec);
    }
    return out;
  }

  /**
   * The Kubernetes form as a tree; {@code namespace} may be {@code null} (cluster-scoped kinds).
   */
  public ObjectNode toKubernetesNode(Resource resource, String namespace) {
    ResourceType type = resource.type();
    Meta meta = resource.meta();
    ObjectNode out = NODES.objectNode();
    boolean secret = type == ResourceType.SECRET;
    out.put("apiVersion", secret ? "v1" : KUMA_API_VERSION);
    out.put("kind", type.kumaName());
    boolean meshField = type.isMeshScoped() && !type.isSpecWrapped() && !secret;
    if (meshField && meta.mesh() != null) {
      out.put("mesh", meta.mesh());
    }
    ObjectNode metadata = out.putObject("metadata");
    metadata.put("name", meta.name());
    if (namespace != null) {
      metadata.put("namespace", namespace);
    }
    Map<String, String> labels = new LinkedHashMap<>(meta.labels());
    if (type.isMeshScoped() && !meshField && meta.mesh() != null) {
      labels.put(MESH_LABEL, meta.mesh());
    }
    if (!labels.isEmpty()) {
      metadata.set("labels", json.valueToTree(labels));
    }
    if (meta.creationTime() != null) {
      metadata.put("creationTimestamp", meta.creationTime().toString());
    }
    if (meta.version() > 0) {
      metadata.put("resourceVersion", Long.toString(meta.version()));
    }
    if (secret) {
      out.putObject("data").put("value", ((SecretSpec) resource.spec()).data());
      out.put("type", SECRET_TYPE);
    } else {
      out.set("spec", toJsonNode(resource.spec()));
    }
    return out;
  }

  private static String write(ObjectMapper mapper, JsonNode node) {
    try {
      return mapper.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e); // cannot happen for trees
    }
  }

  // ---------------------------------------------------------------- helpers

  private Spec convert(
      JsonNode node,
      ResourceType type,
      String prefix,
      Set<String> extraFields,
      List<FieldError> errors) {
    if (node == null || node.isNull()) {
      node = NODES.objectNode(); // "spec:" with nothing after it
    }
    try {
      return json.treeToValue(node, type.specClass());
    } catch (UnrecognizedPropertyException e) {
      Set<String> known = new TreeSet<>();
      for (Object id : e.getKnownPropertyIds() == null ? List.of() : e.getKnownPropertyIds()) {
        known.add(String.valueOf(id));
      }
      if (e.getPath().size() == 1) {
        known.addAll(extraFields);
      }
      errors.add(
          new FieldError(
              path(prefix, e.getPath()),
              "unknown field (expected one of: " + String.join(", ", known) + ")"));
    } catch (MismatchedInputException e) {
      JsonNode value = at(node, e.getPath());
      errors.add(
          new FieldError(
              path(prefix, e.getPath()),
              describe(value) + " (expected: " + expected(e.getTargetType()) + ")"));
    } catch (ValueInstantiationException e) {
      String reason =
          e.getCause() != null && e.getCause().getMessage() != null
              ? e.getCause().getMessage()
              : "invalid value";
      errors.add(new FieldError(path(prefix, e.getPath()), reason));
    } catch (JsonProcessingException e) {
      List<JsonMappingException.Reference> refs =
          e instanceof JsonMappingException m ? m.getPath() : List.of();
      if (e.getCause() instanceof InputCoercionException coercion) { // e.g. an int out of range
        errors.add(
            new FieldError(
                path(prefix, refs),
                describe(at(node, refs))
                    + " (expected: "
                    + expected(coercion.getTargetType())
                    + ")"));
      } else {
        errors.add(new FieldError(path(prefix, refs), firstLine(e.getOriginalMessage())));
      }
    }
    return null;
  }

  private static void requireObject(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new ValidationException("", describe(root) + " (expected: an object)");
    }
  }

  private static void rejectUnknown(
      JsonNode node, String prefix, Set<String> allowed, List<FieldError> errors) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String field = names.next();
      if (!allowed.contains(field)) {
        errors.add(
            new FieldError(
                prefix + field,
                "unknown field (expected one of: "
                    + String.join(", ", new TreeSet<>(allowed))
                    + ")"));
      }
    }
  }

  private static String text(JsonNode parent, String field, String path, List<FieldError> errors) {
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isValueNode()) {
      errors.add(new FieldError(path, describe(node) + " (expected: string)"));
      return null;
    }
    return node.asText();
  }

  private static Map<String, String> stringMap(
      JsonNode node, String path, List<FieldError> errors) {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      errors.add(new FieldError(path, describe(node) + " (expected: an object of strings)"));
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    node.fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isValueNode() && !e.getValue().isNull()) {
                out.put(e.getKey(), e.getValue().asText());
              } else {
                errors.add(
                    new FieldError(
                        path + "." + e.getKey(), describe(e.getValue()) + " (expected: string)"));
              }
            });
    return out;
  }

  private static Instant instant(
      JsonNode parent, String field, String path, List<FieldError> errors) {
    String text = text(parent, field, path, errors);
    if (text == null) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      errors.add(
          new FieldError(
              path, quote(text) + " (expected: RFC 3339 time like 2024-01-31T12:00:00Z)"));
      return null;
    }
  }

  private static JsonNode at(JsonNode root, List<JsonMappingException.Reference> refs) {
    JsonNode node = root;
    for (JsonMappingException.Reference ref : refs) {
      if (node == null) {
        return null;
      }
      node = ref.getFieldName() != null ? node.get(ref.getFieldName()) : node.get(ref.getIndex());
    }
    return node;
  }

  static String path(String prefix, List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder(prefix);
    for (JsonMappingException.Reference ref : refs) {
      if (ref.getFieldName() == null && ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      } else if (ref.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      }
    }
    return sb.toString();
  }

  /**
   * How a value is shown in messages: scalars as JSON ({@code "abc"}, {@code 70000}), containers by
   * kind.
   */
  public static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "missing";
    }
    if (node.isNull()) {
      return "null";
    }
    if (node.isObject()) {
      return "an object";
    }
    if (node.isArray()) {
      return "a list";
    }
    return node.toString();
  }

  private static String expected(Class<?> target) {
    if (target == null) {
      return "a different type";
    }
    if (target == Integer.class
        || target == int.class
        || target == Long.class
        || target == long.class
        || target == Short.class) {
      return "integer";
    }
    if (target == Double.class || target == Float.class || target == double.class) {
      return "number";
    }
    if (target == Boolean.class || target == boolean.class) {
      return "boolean";
    }
    if (target == String.class) {
      return "string";
    }
    if (target.isEnum()) {
      return "one of "
          + Arrays.stream(target.getEnumConstants())
              .map(c -> wireName((Enum<?>) c))
              .collect(Collectors.joining(", "));
    }
    if (Collection.class.isAssignableFrom(target)) {
      return "a list";
    }
    return "an object";
  }

  private static String wireName(Enum<?> constant) {
    try {
      JsonProperty p =
          constant.getDeclaringClass().getField(constant.name()).getAnnotation(JsonProperty.class);
      return p != null ? p.value() : constant.name();
    } catch (NoSuchFieldException e) {
      return constant.name();
    }
  }

  private static String syntaxError(JacksonException e) {
    if (e.getCause() instanceof MarkedYAMLException yamlError
        && yamlError.getProblemMark() != null
        && yamlError.getProblem() != null) {
      // SnakeYAML's "problem" is the specific reason; its "context" ("while parsing a block
      // mapping") is not
      return "line "
          + (yamlError.getProblemMark().getLine() + 1)
          + ", column "
          + (yamlError.getProblemMark().getColumn() + 1)
          + ": "
          + firstLine(yamlError.getProblem());
    }
    JsonLocation loc = e.getLocation();
    String reason = firstLine(e.getOriginalMessage());
    if (loc == null || loc.getLineNr() < 0) {
      return reason;
    }
    return "line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": " + reason;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "invalid document";
    }
    String line = message.strip().lines().findFirst().orElse("invalid document").strip();
    return line.length() > 160 ? line.substring(0, 160) + "..." : line;
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
