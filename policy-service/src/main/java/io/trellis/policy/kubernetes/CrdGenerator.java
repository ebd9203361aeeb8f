package io.trellis.policy.kubernetes;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.ResourceType;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kuma's CRDs ({@code kuma.io/v1alpha1}) generated from the api model: the {@code openAPIV3Schema} of each kind's
 * {@code spec} is derived from its record with the codec's own Jackson configuration, so the schema names exactly
 * the fields the codec reads (renamed ones like {@code default} included).
 *
 * <p>The schemas are structural but deliberately loose where the model is: {@code JsonNode} fields and the
 * polymorphic CA {@code conf} keep unknown fields (Kuma's own CRDs do the same for most of {@code spec}), and no
 * field is required. The API server only checks shape; {@code Validators} (on every store write and in the
 * injector's validating webhook) check the rules.
 */
public final class CrdGenerator {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ObjectMapper mapper;
  private final YAMLMapper yaml = YAMLMapper.builder(YAMLFactory.builder()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
          .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
          .build())
      .build();

  public CrdGenerator(ResourceCodec codec) {
    this.mapper = codec.jsonMapper();
  }

  /** File name → CRD YAML, one per custom resource kind, in a stable order. */
  public Map<String, String> files() {
    Map<String, String> out = new TreeMap<>();
    for (KumaKind kind : KumaKind.values()) {
      if (kind.isCustomResource()) {
        out.put(kind.crdName() + ".yaml", toYaml(crd(kind)));
      }
    }
    return out;
  }

  public String toYaml(JsonNode node) {
    try {
      return yaml.writeValueAsString(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e);
    }
  }

  /** The CustomResourceDefinition of one kind. */
  public ObjectNode crd(KumaKind kind) {
    ResourceType type = kind.type();
    ObjectNode crd = NODES.objectNode();
    crd.put("apiVersion", "apiextensions.k8s.io/v1");
    crd.put("kind", "CustomResourceDefinition");
    ObjectNode metadata = crd.putObject("metadata");
    metadata.put("name", kind.crdName());
    metadata.putObject("labels").put("app.kubernetes.io/part-of", "trellis");
    ObjectNode spec = crd.putObject("spec");
    spec.put("group", KumaKind.GROUP);
    ObjectNode names = spec.putObject("names");
    names.put("kind", type.kumaName());
    names.put("listKind", type.kumaName() + "List");
    names.put("plural", kind.plural());
    names.put("singular", kind.singular());
    if (!kind.shortNames().isEmpty()) {
      kind.shortNames().forEach(names.putArray("shortNames")::add);
    }
    names.putArray("categories").add("kuma");
    spec.put("scope", kind.namespaced() ? "Namespaced" : "Cluster");
    ObjectNode version = spec.putArray("versions").addObject();
    version.put("name", KumaKind.VERSION);
    version.put("served", true);
    version.put("storage", true);
    ObjectNode root = version.putObject("schema").putObject("openAPIV3Schema");
    root.put("type", "object");
    ObjectNode props = root.putObject("properties");
    props.putObject("apiVersion").put("type", "string");
    props.putObject("kind").put("type", "string");
    props.putObject("metadata").put("type", "object");
    if (type.isMeshScoped() && !type.isSpecWrapped()) {
      props.putObject("mesh").put("type", "string");
    }
    props.set("spec", schema(mapper.constructType(type.specClass()), new HashSet<>()));
    // status is written by controllers and read back by nobody here; keep whatever they write
    props.putObject("status").put("type", "object").put("x-kubernetes-preserve-unknown-fields", true);
    return crd;
  }

  /** The structural schema of one Java type as the codec (de)serialises it. */
  ObjectNode schema(JavaType type, Set<Class<?>> visiting) {
    Class<?> raw = type.getRawClass();
    ObjectNode s = NODES.objectNode();
    if (JsonNode.class.isAssignableFrom(raw) || raw == Object.class) {
      return s.put("x-kubernetes-preserve-unknown-fields", true);
    }
    if (CharSequence.class.isAssignableFrom(raw) || raw == java.time.Instant.class) {
      return s.put("type", "string");
    }
    if (raw == Integer.class || raw == int.class || raw == Short.class || raw == short.class) {
      return s.put("type", "integer").put("format", "int32");
    }
    if (raw == Long.class || raw == long.class) {
      return s.put("type", "integer").put("format", "int64");
    }
    if (raw == Boolean.class || raw == boolean.class) {
      return s.put("type", "boolean");
    }
    if (Number.class.isAssignableFrom(raw) || raw == double.class || raw == float.class) {
      return s.put("type", "number");
    }
    if (raw.isEnum()) {
      s.put("type", "string");
      var values = s.putArray("enum");
      for (Object constant : raw.getEnumConstants()) {
        values.add(mapper.valueToTree(constant).asText());
      }
      return s;
    }
    if (type.isCollectionLikeType() || type.isArrayType()) {
      s.put("type", "array");
      s.set("items", schema(type.getContentType(), visiting));
      return s;
    }
    if (type.isMapLikeType()) {
      s.put("type", "object");
      s.set("additionalProperties", schema(type.getContentType(), visiting));
      return s;
    }
    if (raw.isInterface() || Modifier.isAbstract(raw.getModifiers()) || !visiting.add(raw)) {
      // polymorphic (read by a custom deserializer) or recursive: shape checked by the codec only
      return s.put("type", "object").put("x-kubernetes-preserve-unknown-fields", true);
    }
    try {
      s.put("type", "object");
      BeanDescription bean = mapper.getDeserializationConfig().introspect(type);
      Map<String, JsonNode> properties = new LinkedHashMap<>();
      List<BeanPropertyDefinition> defs = new ArrayList<>(bean.findProperties());
      for (BeanPropertyDefinition def : defs) {
        properties.put(def.getName(), schema(def.getPrimaryType(), visiting));
      }
      s.putObject("properties").setAll(properties);
      return s;
    } finally {
      visiting.remove(raw);
    }
  }
}
