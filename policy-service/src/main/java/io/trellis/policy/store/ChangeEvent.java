package io.trellis.policy.store;

import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;

/**
 * One committed change. {@code before} is null on creation, {@code after} null on deletion: consumers need both
 * to know which proxies a change can affect (a policy that stops selecting a proxy affects it too).
 */
public record ChangeEvent(ResourceType type, String mesh, String name, Resource before, Resource after) {
  public boolean deleted() {
    return after == null;
  }
}
