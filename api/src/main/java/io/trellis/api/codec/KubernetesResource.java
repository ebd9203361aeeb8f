package io.trellis.api.codec;

import static java.util.Objects.requireNonNull;

import io.trellis.api.model.Resource;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A resource with the Kubernetes metadata that has no place in {@link io.trellis.api.model.Meta}:
 * its namespace ({@code null} for cluster-scoped objects) and annotations (never {@code null}).
 */
public record KubernetesResource(
    Resource resource, String namespace, Map<String, String> annotations) {

  public KubernetesResource {
    requireNonNull(resource, "resource");
    annotations =
        annotations == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(annotations));
  }
}
