package io.trellis.api.model;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Identity and bookkeeping of a resource.
 *
 * @param mesh the mesh, {@code null} for {@code Mesh} itself
 * @param name the resource name
 * @param labels labels, never {@code null} (sorted, unmodifiable); on Kubernetes the {@code
 *     kuma.io/mesh} label of policies is carried by {@link #mesh()} instead
 * @param version store version, {@code 0} when unknown or new
 * @param creationTime nullable
 * @param modificationTime nullable
 */
public record Meta(
    String mesh,
    String name,
    Map<String, String> labels,
    long version,
    Instant creationTime,
    Instant modificationTime) {

  public Meta {
    labels = labels == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
  }

  public static Meta of(String mesh, String name) {
    return new Meta(mesh, name, Map.of(), 0, null, null);
  }

  public Meta withVersion(long newVersion) {
    return new Meta(mesh, name, labels, newVersion, creationTime, modificationTime);
  }
}
