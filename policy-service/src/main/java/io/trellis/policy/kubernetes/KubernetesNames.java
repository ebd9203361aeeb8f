package io.trellis.policy.kubernetes;

import io.trellis.api.validation.ValidationException;
import java.util.regex.Pattern;

/**
 * Kuma's naming on Kubernetes: a namespaced object {@code name} in {@code namespace} is called {@code
 * name.namespace} everywhere outside Kubernetes (REST, matching, proxy views); cluster-scoped objects keep their
 * name. A namespace cannot contain a dot, so the last dot always separates it. Secrets live in the system
 * namespace under their own name.
 */
public final class KubernetesNames {
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  private final String systemNamespace;

  public KubernetesNames(String systemNamespace) {
    this.systemNamespace = systemNamespace;
  }

  public String systemNamespace() {
    return systemNamespace;
  }

  /** Where an object of {@code kind} called {@code coreName} lives on Kubernetes. */
  public ObjectName toKubernetes(KumaKind kind, String coreName) {
    if (kind == KumaKind.SECRET) {
      return new ObjectName(systemNamespace, coreName);
    }
    if (!kind.namespaced()) {
      return new ObjectName(null, coreName);
    }
    int dot = coreName.lastIndexOf('.');
    String namespace = dot < 0 ? "" : coreName.substring(dot + 1);
    if (dot <= 0 || !DNS_LABEL.matcher(namespace).matches()) {
      throw new ValidationException("name", "'" + coreName + "' (expected: <name>.<namespace> on Kubernetes, "
          + "e.g. allow-all." + systemNamespace + ")");
    }
    return new ObjectName(namespace, coreName.substring(0, dot));
  }

  /** The name Kuma shows for a Kubernetes object. */
  public String toCore(KumaKind kind, String namespace, String name) {
    return kind.namespaced() && kind != KumaKind.SECRET ? name + "." + namespace : name;
  }

  /** A Kubernetes object's namespace ({@code null} when cluster-scoped) and name. */
  public record ObjectName(String namespace, String name) {}
}
