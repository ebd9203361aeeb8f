package io.trellis.policy.kubernetes;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Kuma's Pod → Dataplane conversion, a pure function of the Pod, the Services of its namespace and the Namespace:
 *
 * <ul>
 *   <li>one inbound per port of every Service selecting the pod: {@code kuma.io/service =
 *       <service>_<namespace>_svc_<port>}, the pod's labels as tags, {@code k8s.kuma.io/namespace}, {@code
 *       kuma.io/protocol} from the Service port's {@code appProtocol} (default {@code tcp}); the inbound port is the
 *       target port, a named one resolved from the pod's containers;
 *   <li>{@code kuma.io/gateway: enabled} → a DELEGATED gateway Dataplane tagged from the first selecting Service
 *       (by name) and its first port;
 *   <li>mesh from {@code kuma.io/mesh} on the pod (annotation, then label), else on its namespace, else
 *       {@code default};
 *   <li>transparent proxying from the annotations the injector writes.
 * </ul>
 * A pod yields no Dataplane until it is injected, has an IP and is selected by a Service port it can serve.
 */
public final class PodDataplanes {
  public static final String SIDECAR_INJECTED = "kuma.io/sidecar-injected";
  public static final String MESH = "kuma.io/mesh";
  public static final String GATEWAY = "kuma.io/gateway";
  public static final String TRANSPARENT_PROXYING = "kuma.io/transparent-proxying";
  public static final String INBOUND_PORT = "kuma.io/transparent-proxying-inbound-port";
  public static final String OUTBOUND_PORT = "kuma.io/transparent-proxying-outbound-port";
  public static final String REACHABLE_SERVICES = "kuma.io/transparent-proxying-reachable-services";
  public static final String IP_FAMILY_MODE = "kuma.io/transparent-proxying-ip-family-mode";
  public static final String ENVOY_ADMIN_PORT = "kuma.io/envoy-admin-port";
  /** Marks Dataplanes this controller owns, so it never deletes one created by hand. */
  public static final String MANAGED_BY = "trellis.io/managed-by";
  public static final String MANAGED_BY_VALUE = "pod-controller";

  private static final Set<String> PROTOCOLS = Set.of("tcp", "http", "http2", "grpc", "kafka");

  private PodDataplanes() {}

  /** The Dataplane for {@code pod}, or empty when it should have none. */
  public static Optional<Resource> dataplane(Pod pod, List<Service> services, Namespace namespace) {
    Map<String, String> annotations = orEmpty(pod.getMetadata().getAnnotations());
    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"true".equals(annotations.get(SIDECAR_INJECTED)) || ip == null || ip.isEmpty()
        || "Succeeded".equals(phase) || "Failed".equals(phase) || pod.getMetadata().getDeletionTimestamp() != null) {
      return Optional.empty();
    }
    String ns = pod.getMetadata().getNamespace();
    List<Service> selecting = services.stream()
        .filter(s -> ns.equals(s.getMetadata().getNamespace()))
        .filter(s -> selects(s, pod))
        .sorted(Comparator.comparing(s -> s.getMetadata().getName()))
        .toList();
    boolean ready = isReady(pod);
    boolean gateway = "enabled".equals(annotations.get(GATEWAY));
    List<DataplaneSpec.Inbound> inbound = new ArrayList<>();
    DataplaneSpec.Gateway gatewaySpec = null;
    if (gateway) {
      Optional<Service> first = selecting.stream().filter(s -> !orEmpty(s.getSpec().getPorts()).isEmpty()).findFirst();
      if (first.isEmpty()) {
        return Optional.empty();
      }
      gatewaySpec = new DataplaneSpec.Gateway(DataplaneSpec.GatewayType.DELEGATED,
          tags(pod, first.get(), first.get().getSpec().getPorts().get(0)));
    } else {
      for (Service service : selecting) {
        for (ServicePort port : orEmpty(service.getSpec().getPorts())) {
          if (port.getProtocol() != null && !"TCP".equals(port.getProtocol())) {
            continue; // Envoy proxies TCP only; Kuma skips UDP/SCTP ports too
          }
          Integer target = targetPort(pod, port);
          if (target == null) {
            continue; // a named port no container declares: nothing listens there
          }
          inbound.add(new DataplaneSpec.Inbound(target, null, null, null, null, tags(pod, service, port),
              new DataplaneSpec.Health(ready), null, null));
        }
      }
      if (inbound.isEmpty()) {
        return Optional.empty();
      }
    }
    DataplaneSpec.TransparentProxying tp = null;
    if ("enabled".equals(annotations.get(TRANSPARENT_PROXYING))) {
      tp = new DataplaneSpec.TransparentProxying(intOrNull(annotations.get(INBOUND_PORT)),
          intOrNull(annotations.get(OUTBOUND_PORT)), null, list(annotations.get(REACHABLE_SERVICES)),
          ipFamilyMode(annotations.get(IP_FAMILY_MODE)), null);
    }
    Integer adminPort = intOrNull(annotations.get(ENVOY_ADMIN_PORT));
    DataplaneSpec spec = new DataplaneSpec(new DataplaneSpec.Networking(ip, null, gateway ? null : inbound, null,
        gatewaySpec, tp, adminPort == null ? null : new DataplaneSpec.Admin(adminPort)), null, null);
    Map<String, String> labels = new TreeMap<>();
    labels.put("k8s.kuma.io/namespace", ns);
    labels.put("kuma.io/proxy-type", gateway ? "gateway" : "sidecar");
    labels.put(MANAGED_BY, MANAGED_BY_VALUE);
    Meta meta = new Meta(mesh(pod, namespace), pod.getMetadata().getName() + "." + ns, labels, 0, null, null);
    return Optional.of(new Resource(ResourceType.DATAPLANE, meta, spec));
  }

  /** {@code kuma.io/mesh} on the pod (annotation, label), then on the namespace, else {@code default}. */
  public static String mesh(Pod pod, Namespace namespace) {
    return Stream.of(orEmpty(pod.getMetadata().getAnnotations()).get(MESH),
            orEmpty(pod.getMetadata().getLabels()).get(MESH),
            namespace == null ? null : orEmpty(namespace.getMetadata().getAnnotations()).get(MESH),
            namespace == null ? null : orEmpty(namespace.getMetadata().getLabels()).get(MESH))
        .filter(v -> v != null && !v.isBlank())
        .findFirst().orElse("default");
  }

  /** Whether the Service's selector picks the pod (a Service without selector picks nothing, as in Kubernetes). */
  public static boolean selects(Service service, Pod pod) {
    Map<String, String> selector = service.getSpec() == null ? null : service.getSpec().getSelector();
    if (selector == null || selector.isEmpty()) {
      return false;
    }
    Map<String, String> labels = orEmpty(pod.getMetadata().getLabels());
    return labels.entrySet().containsAll(selector.entrySet());
  }

  private static Map<String, String> tags(Pod pod, Service service, ServicePort port) {
    Map<String, String> tags = new LinkedHashMap<>(orEmpty(pod.getMetadata().getLabels()));
    tags.remove("pod-template-hash"); // differs per ReplicaSet: would split one service into many subsets
    String ns = pod.getMetadata().getNamespace();
    tags.put("kuma.io/service", service.getMetadata().getName() + "_" + ns + "_svc_" + port.getPort());
    tags.put("k8s.kuma.io/namespace", ns);
    tags.put("k8s.kuma.io/service-name", service.getMetadata().getName());
    tags.put("k8s.kuma.io/service-port", Integer.toString(port.getPort()));
    tags.put("kuma.io/protocol", protocol(port.getAppProtocol()));
    return new TreeMap<>(tags);
  }

  private static String protocol(String appProtocol) {
    if (appProtocol == null) {
      return "tcp";
    }
    String p = appProtocol.toLowerCase(Locale.ROOT);
    // Kubernetes' own values are prefixed (kubernetes.io/h2c); an unknown protocol is proxied as plain TCP
    if (p.equals("kubernetes.io/h2c")) {
      return "http2";
    }
    return PROTOCOLS.contains(p) ? p : "tcp";
  }

  private static Integer targetPort(Pod pod, ServicePort port) {
    IntOrString target = port.getTargetPort();
    if (target == null || (target.getIntVal() == null && target.getStrVal() == null)) {
      return port.getPort();
    }
    if (target.getIntVal() != null) {
      return target.getIntVal();
    }
    for (Container c : orEmpty(pod.getSpec() == null ? null : pod.getSpec().getContainers())) {
      for (ContainerPort cp : orEmpty(c.getPorts())) {
        if (target.getStrVal().equals(cp.getName())) {
          return cp.getContainerPort();
        }
      }
    }
    return null;
  }

  private static boolean isReady(Pod pod) {
    if (pod.getStatus() == null) {
      return false;
    }
    for (PodCondition c : orEmpty(pod.getStatus().getConditions())) {
      if ("Ready".equals(c.getType())) {
        return "True".equals(c.getStatus());
      }
    }
    return false;
  }

  private static String ipFamilyMode(String value) {
    if (value == null) {
      return null;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "ipv4" -> "IPv4";
      case "ipv6" -> "IPv6";
      case "dualstack" -> "DualStack";
      default -> value; // left for the validator to name
    };
  }

  private static Integer intOrNull(String value) {
    if (value == null) {
      return null;
    }
    try {
      return Integer.valueOf(value.trim());
    } catch (NumberFormatException e) {
      return -1; // out of range: the validator names the field and the expected form
    }
  }

  private static List<String> list(String csv) {
    if (csv == null || csv.isBlank()) {
      return null;
    }
    return Stream.of(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }
}
