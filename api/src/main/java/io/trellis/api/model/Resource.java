package io.trellis.api.model;

import static java.util.Objects.requireNonNull;

/** A Kuma resource: its kind, identity and kind-specific spec. */
public record Resource(ResourceType type, Meta meta, Spec spec) {

  public Resource {
    requireNonNull(type, "type");
    requireNonNull(meta, "meta");
    requireNonNull(spec, "spec");
    if (!type.specClass().isInstance(spec)) {
      throw new IllegalArgumentException(
          "spec: "
              + spec.getClass().getSimpleName()
              + " (expected: "
              + type.specClass().getSimpleName()
              + ")");
    }
  }

  public String mesh() {
    return meta.mesh();
  }

  public String name() {
    return meta.name();
  }

  /** The spec cast to its kind's record, e.g. {@code resource.spec(MeshGatewaySpec.class)}. */
  public <S extends Spec> S spec(Class<S> specClass) {
    return specClass.cast(spec);
  }
}
