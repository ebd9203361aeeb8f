package io.trellis.injector.inject;

import io.fabric8.kubernetes.api.model.Pod;

/** What the injector decided for one pod. */
public sealed interface Decision {
  /** The pod is admitted unchanged (not selected, already injected, host network, system namespace). */
  record Skip(String reason) implements Decision {}

  /** The pod is admitted with the sidecar: {@code pod} is the patched copy. */
  record Inject(Pod pod) implements Decision {}

  /** The pod asks for injection but cannot be injected as asked; the message names the annotation. */
  record Reject(String message) implements Decision {}
}
