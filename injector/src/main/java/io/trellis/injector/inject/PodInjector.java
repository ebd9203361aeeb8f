package io.trellis.injector.inject;

import static io.trellis.injector.inject.Annotations.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Decides whether a pod gets the sidecar and writes the injected pod (Kuma's injector behaviour).
 * Pure: no I/O, the namespace's labels and annotations are passed in.
 */
public final class PodInjector {
  static final String TOKEN_VOLUME = "trellis-xds-token";
  static final String TOKEN_DIR = "/var/run/secrets/trellis/xds-token";
  static final String TMP_VOLUME = "trellis-sidecar-tmp";
  private static final ObjectMapper JSON = new ObjectMapper();

  /*
   * Envoy takes its bootstrap from --config-yaml; the pod name and the token only exist inside the
   * running pod, so a two-line script fills them in. Needs /bin/sh in the image (envoyproxy/envoy has it).
   * The token is read once per start: xds-service authenticates the stream when it opens.
   */
  static final String START_SCRIPT = "set -e\n"
      + "TOKEN=$(cat " + TOKEN_DIR + "/token)\n"
      + "exec envoy --log-level \"$TRELLIS_LOG_LEVEL\" --config-yaml \"$(printf '%s' \"$TRELLIS_BOOTSTRAP\""
      + " | sed -e \"s|" + Bootstrap.POD_NAME + "|$POD_NAME|g\" -e \"s|" + Bootstrap.TOKEN + "|$TOKEN|g\")\"\n";

  private final InjectionSettings s;

  public PodInjector(InjectionSettings settings) {
    this.s = Objects.requireNonNull(settings, "settings");
  }

  /**
   * @param namespace the namespace the pod is created in (the pod's own metadata may not carry it yet)
   */
  public Decision decide(Pod pod, String namespace, Map<String, String> nsLabels, Map<String, String> nsAnnotations) {
    Map<String, String> labels = nonNull(pod.getMetadata() == null ? null : pod.getMetadata().getLabels());
    Map<String, String> annotations = nonNull(pod.getMetadata() == null ? null : pod.getMetadata().getAnnotations());
    PodSpec spec = pod.getSpec();
    if (spec == null) {
      return new Decision.Reject("spec: missing (expected: a Pod with spec.containers)");
    }
    if (Boolean.TRUE.equals(spec.getHostNetwork())) {
      return new Decision.Skip("hostNetwork pods share the node's network: not injected");
    }
    if (s.systemNamespace().equals(namespace)) {
      return new Decision.Skip("pods in the control plane namespace " + namespace + " are not injected");
    }
    if ("true".equals(annotations.get(SIDECAR_INJECTED)) || hasContainer(spec, SIDECAR_NAME)) {
      return new Decision.Skip("already injected");
    }
    try {
      if (!selected(labels, annotations, nonNull(nsLabels), nonNull(nsAnnotations))) {
        return new Decision.Skip("not selected: no " + SIDECAR_INJECTION + ": enabled on the pod or its namespace");
      }
      return new Decision.Inject(inject(pod, namespace, labels, annotations, nonNull(nsLabels), nonNull(nsAnnotations)));
    } catch (InjectionException e) {
      return new Decision.Reject(e.getMessage());
    }
  }

  /** Pod label or annotation overrides the namespace; on the pod, disabled wins. */
  private static boolean selected(Map<String, String> labels, Map<String, String> annotations,
      Map<String, String> nsLabels, Map<String, String> nsAnnotations) {
    Boolean byLabel = flag(labels, SIDECAR_INJECTION);
    Boolean byAnnotation = flag(annotations, SIDECAR_INJECTION);
    if (Boolean.FALSE.equals(byLabel) || Boolean.FALSE.equals(byAnnotation)) {
      return false;
    }
    if (Boolean.TRUE.equals(byLabel) || Boolean.TRUE.equals(byAnnotation)) {
      return true;
    }
    Boolean ns = flag(nsLabels, SIDECAR_INJECTION);
    if (ns == null) {
      ns = flag(nsAnnotations, SIDECAR_INJECTION);
    }
    return Boolean.TRUE.equals(ns);
  }

  private static Boolean flag(Map<String, String> m, String key) {
    String v = m.get(key);
    return v == null ? null : Values.enabled(key, v);
  }

  private Pod inject(Pod original, String namespace, Map<String, String> labels, Map<String, String> annotations,
      Map<String, String> nsLabels, Map<String, String> nsAnnotations) {
    Pod pod = JSON.convertValue(original, Pod.class);
    PodSpec spec = pod.getSpec();
    if (pod.getMetadata() == null) {
      pod.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
    }
    if (spec.getContainers() == null || spec.getContainers().isEmpty()) {
      throw new InjectionException("spec.containers: empty (expected: at least one application container)");
    }

    // --- read and check every annotation before changing anything
    String tp = annotations.get(TRANSPARENT_PROXYING);
    if (tp != null && !Values.enabled(TRANSPARENT_PROXYING, tp)) {
      throw Values.bad(TRANSPARENT_PROXYING, tp, "enabled or absent: on Kubernetes the sidecar needs transparent proxying");
    }
    String mesh = Values.mesh(MESH, first("default", annotations.get(MESH), labels.get(MESH), nsAnnotations.get(MESH), nsLabels.get(MESH)));
    boolean gateway = false;
    String gw = annotations.get(GATEWAY);
    if (gw != null) {
      gateway = Values.enabled(GATEWAY, gw);
    }
    long uid = annotations.containsKey(SIDECAR_UID) ? Values.uid(SIDECAR_UID, annotations.get(SIDECAR_UID)) : s.uid();
    List<String> excludeInbound = Values.ports(EXCLUDE_INBOUND_PORTS, annotations.getOrDefault(EXCLUDE_INBOUND_PORTS, ""));
    if (gateway && !excludeInbound.isEmpty()) {
      throw Values.bad(EXCLUDE_INBOUND_PORTS, annotations.get(EXCLUDE_INBOUND_PORTS),
          "absent when " + GATEWAY + " is enabled: a delegated gateway gets no inbound redirection");
    }
    List<String> excludeOutbound = Values.ports(EXCLUDE_OUTBOUND_PORTS, annotations.getOrDefault(EXCLUDE_OUTBOUND_PORTS, ""));
    List<String> uidExclusions = Values.uidExclusions(EXCLUDE_OUTBOUND_PORTS_FOR_UIDS, annotations.getOrDefault(EXCLUDE_OUTBOUND_PORTS_FOR_UIDS, ""));
    List<String> excludeInboundIps = Values.ips(EXCLUDE_INBOUND_IPS, annotations.getOrDefault(EXCLUDE_INBOUND_IPS, ""));
    List<String> excludeOutboundIps = Values.ips(EXCLUDE_OUTBOUND_IPS, annotations.getOrDefault(EXCLUDE_OUTBOUND_IPS, ""));
    List<String> reachable = Values.services(REACHABLE_SERVICES, annotations.getOrDefault(REACHABLE_SERVICES, ""));
    Map<String, String> extraEnv = Values.envVars(SIDECAR_ENV_VARS, annotations.getOrDefault(SIDECAR_ENV_VARS, ""));
    String logLevel = Values.logLevel(ENVOY_LOG_LEVEL, annotations.getOrDefault(ENVOY_LOG_LEVEL, s.logLevel()));
    String ipFamily = Values.ipFamilyMode(IP_FAMILY_MODE, annotations.getOrDefault(IP_FAMILY_MODE, s.ipFamilyMode()));
    boolean virtualProbes = !annotations.containsKey(VIRTUAL_PROBES) || Values.enabled(VIRTUAL_PROBES, annotations.get(VIRTUAL_PROBES));
    int virtualProbesPort = annotations.containsKey(VIRTUAL_PROBES_PORT)
        ? Values.port(VIRTUAL_PROBES_PORT, annotations.get(VIRTUAL_PROBES_PORT)) : s.virtualProbesPort();
    boolean dns = annotations.containsKey(BUILTIN_DNS) ? Values.enabled(BUILTIN_DNS, annotations.get(BUILTIN_DNS)) : s.builtinDns();
    int dnsPort = annotations.containsKey(BUILTIN_DNS_PORT) ? Values.port(BUILTIN_DNS_PORT, annotations.get(BUILTIN_DNS_PORT)) : s.dnsPort();
    boolean nativeSidecar = annotations.containsKey(NATIVE_SIDECAR)
        ? Values.enabled(NATIVE_SIDECAR, annotations.get(NATIVE_SIDECAR)) : s.nativeSidecarByDefault();
    if (nativeSidecar && !s.clusterSupportsNativeSidecars()) {
      if (annotations.containsKey(NATIVE_SIDECAR)) {
        throw Values.bad(NATIVE_SIDECAR, annotations.get(NATIVE_SIDECAR), "disabled or absent: native sidecars need Kubernetes >= 1.29");
      }
      nativeSidecar = false;
    }

    // --- the application must not run as the proxy uid (its traffic would bypass the proxy)
    // and must not listen on a port the proxy uses.
    Map<Integer, String> proxyPorts = new LinkedHashMap<>();
    proxyPorts.put(s.inboundPort(), INBOUND_PORT);
    proxyPorts.put(s.outboundPort(), OUTBOUND_PORT);
    proxyPorts.put(s.adminPort(), ENVOY_ADMIN_PORT);
    proxyPorts.put(s.readinessPort(), "trellis.injector.sidecar.readiness-port");
    if (virtualProbes) {
      proxyPorts.put(virtualProbesPort, VIRTUAL_PROBES_PORT);
    }
    if (dns) {
      proxyPorts.put(dnsPort, BUILTIN_DNS_PORT);
    }
    Long podUid = spec.getSecurityContext() == null ? null : spec.getSecurityContext().getRunAsUser();
    for (Container c : spec.getContainers()) {
      Long cUid = c.getSecurityContext() != null && c.getSecurityContext().getRunAsUser() != null
          ? c.getSecurityContext().getRunAsUser() : podUid;
      if (cUid != null && cUid == uid) {
        throw new InjectionException(SIDECAR_UID + ": container " + c.getName() + " runs as uid " + uid
            + ", the proxy's uid (expected: application containers run as another uid, or set " + SIDECAR_UID + ")");
      }
      for (ContainerPort p : nonNullList(c.getPorts())) {
        String owner = proxyPorts.get(p.getContainerPort());
        if (owner != null) {
          throw new InjectionException("spec.containers[" + c.getName() + "].ports: " + p.getContainerPort()
              + " is used by the sidecar (" + owner + "); expected: another port");
        }
      }
    }

    // --- probes: HTTP probes become virtual probes served by the sidecar; the others' ports
    // are left out of inbound redirection (the kubelet cannot speak mTLS).
    SortedSet<Integer> probed = new TreeSet<>();
    Set<String> probeExcluded = new LinkedHashSet<>();
    for (Container c : spec.getContainers()) {
      for (Probe p : new Probe[] {c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe()}) {
        if (p == null) {
          continue;
        }
        HTTPGetAction http = p.getHttpGet();
        if (http != null) {
          int port = resolvePort(c, http.getPort(), "httpGet");
          boolean plainHttp = http.getScheme() == null || http.getScheme().equalsIgnoreCase("HTTP");
          if (virtualProbes && plainHttp && http.getHost() == null && !gateway) {
            String path = http.getPath() == null || http.getPath().isEmpty() ? "/" : http.getPath();
            http.setPath("/" + port + (path.startsWith("/") ? path : "/" + path));
            http.setPort(new IntOrString(virtualProbesPort));
            probed.add(port);
          } else {
            probeExcluded.add(Integer.toString(port));
          }
        } else if (p.getTcpSocket() != null) {
          probeExcluded.add(Integer.toString(resolvePort(c, p.getTcpSocket().getPort(), "tcpSocket")));
        } else if (p.getGrpc() != null && p.getGrpc().getPort() != null) {
          probeExcluded.add(Integer.toString(p.getGrpc().getPort()));
        }
      }
    }

    // --- init container: meshctl install transparent-proxy with the pod's flags
    List<String> tproxy = new ArrayList<>(List.of("meshctl", "install", "transparent-proxy",
        "--kuma-dp-uid", Long.toString(uid),
        "--redirect-inbound=" + !gateway,
        "--redirect-inbound-port", Integer.toString(s.inboundPort()),
        "--redirect-outbound-port", Integer.toString(s.outboundPort())));
    if (dns) {
      tproxy.addAll(List.of("--redirect-dns", "--redirect-dns-port", Integer.toString(dnsPort)));
    }
    if (!gateway) {
      Set<String> inboundExcl = new LinkedHashSet<>(excludeInbound);
      inboundExcl.add(Integer.toString(s.readinessPort()));
      if (!probed.isEmpty()) {
        inboundExcl.add(Integer.toString(virtualProbesPort));
      }
      inboundExcl.addAll(probeExcluded);
      tproxy.addAll(List.of("--exclude-inbound-ports", String.join(",", inboundExcl)));
      if (!excludeInboundIps.isEmpty()) {
        tproxy.addAll(List.of("--exclude-inbound-ips", String.join(",", excludeInboundIps)));
      }
    }
    if (!excludeOutbound.isEmpty()) {
      tproxy.addAll(List.of("--exclude-outbound-ports", String.join(",", excludeOutbound)));
    }
    for (String u : uidExclusions) {
      tproxy.addAll(List.of("--exclude-outbound-ports-for-uids", u));
    }
    if (!excludeOutboundIps.isEmpty()) {
      tproxy.addAll(List.of("--exclude-outbound-ips", String.join(",", excludeOutboundIps)));
    }
    tproxy.addAll(List.of("--ip-family-mode", ipFamily, "--verbose"));

    Container init = new ContainerBuilder()
        .withName(INIT_NAME)
        .withImage(s.initImage())
        .withCommand(tproxy)
        .withNewSecurityContext()
            .withRunAsUser(0L).withRunAsGroup(0L).withRunAsNonRoot(false)
            .withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
            .withNewCapabilities().withAdd("NET_ADMIN", "NET_RAW").withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .withNewResources()
            .addToRequests("cpu", new Quantity("20m")).addToRequests("memory", new Quantity("32Mi"))
            .addToLimits("cpu", new Quantity("100m")).addToLimits("memory", new Quantity("128Mi"))
        .endResources()
        .build();

    // --- the sidecar
    List<EnvVar> env = new ArrayList<>(List.of(
        fieldEnv("POD_NAME", "metadata.name"),
        fieldEnv("POD_NAMESPACE", "metadata.namespace"),
        fieldEnv("INSTANCE_IP", "status.podIP"),
        new EnvVar("TRELLIS_MESH", mesh, null),
        new EnvVar("TRELLIS_XDS_ADDRESS", s.xdsAddress(), null),
        new EnvVar("TRELLIS_LOG_LEVEL", logLevel, null),
        new EnvVar("TRELLIS_BOOTSTRAP", Bootstrap.json(s, mesh, namespace, gateway, reachable, probed), null)));
    extraEnv.forEach((k, v) -> {
      env.removeIf(e -> e.getName().equals(k));
      env.add(new EnvVar(k, v, null));
    });
    ContainerBuilder sidecar = new ContainerBuilder()
        .withName(SIDECAR_NAME)
        .withImage(s.sidecarImage())
        .withCommand("/bin/sh", "-c", START_SCRIPT)
        .withEnv(env)
        .withNewSecurityContext()
            .withRunAsUser(uid).withRunAsGroup(uid).withRunAsNonRoot(uid != 0)
            .withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
            .withNewCapabilities().withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .withNewReadinessProbe()
            .withNewHttpGet().withPath("/ready").withPort(new IntOrString(s.readinessPort())).endHttpGet()
            .withInitialDelaySeconds(1).withPeriodSeconds(5).withFailureThreshold(12).withTimeoutSeconds(3)
        .endReadinessProbe()
        .withNewResources()
            .addToRequests("cpu", new Quantity(s.requestsCpu())).addToRequests("memory", new Quantity(s.requestsMemory()))
            .addToLimits("cpu", new Quantity(s.limitsCpu())).addToLimits("memory", new Quantity(s.limitsMemory()))
        .endResources()
        .addNewVolumeMount().withName(TOKEN_VOLUME).withMountPath(TOKEN_DIR).withReadOnly(true).endVolumeMount()
        .addNewVolumeMount().withName(TMP_VOLUME).withMountPath("/tmp").endVolumeMount();
    if (nativeSidecar) {
      // The kubelet starts the next init container once this probe passes: they find the proxy up.
      sidecar.withRestartPolicy("Always")
          .withNewStartupProbe()
              .withNewHttpGet().withPath("/ready").withPort(new IntOrString(s.readinessPort())).endHttpGet()
              .withPeriodSeconds(1).withFailureThreshold(120).withTimeoutSeconds(3)
          .endStartupProbe();
    }

    List<Container> inits = new ArrayList<>(nonNullList(spec.getInitContainers()));
    if (nativeSidecar) {
      // The sidecar starts before the application's own init containers, so they are in the mesh too.
      inits.add(0, init);
      inits.add(1, sidecar.build());
    } else {
      // Last: earlier init containers run before any redirection (no proxy would answer them yet).
      inits.add(init);
      spec.getContainers().add(sidecar.build());
    }
    spec.setInitContainers(inits);

    List<Volume> volumes = new ArrayList<>(nonNullList(spec.getVolumes()));
    volumes.add(new VolumeBuilder().withName(TOKEN_VOLUME)
        .withNewProjected().addNewSource().withNewServiceAccountToken()
            .withAudience(s.tokenAudience()).withExpirationSeconds(s.tokenExpirationSeconds()).withPath("token")
        .endServiceAccountToken().endSource().endProjected().build());
    volumes.add(new VolumeBuilder().withName(TMP_VOLUME).withNewEmptyDir().endEmptyDir().build());
    spec.setVolumes(volumes);

    Map<String, String> out = new LinkedHashMap<>(nonNull(pod.getMetadata().getAnnotations()));
    out.put(SIDECAR_INJECTED, "true");
    out.put(SIDECAR_UID, Long.toString(uid));
    out.put(MESH, mesh);
    out.put(TRANSPARENT_PROXYING, "enabled");
    out.put(INBOUND_PORT, Integer.toString(s.inboundPort()));
    out.put(OUTBOUND_PORT, Integer.toString(s.outboundPort()));
    out.put(ENVOY_ADMIN_PORT, Integer.toString(s.adminPort()));
    out.put(IP_FAMILY_MODE, ipFamily);
    out.put(VIRTUAL_PROBES, virtualProbes ? "enabled" : "disabled");
    if (!probed.isEmpty()) {
      out.put(VIRTUAL_PROBES_PORT, Integer.toString(virtualProbesPort));
    }
    if (dns) {
      out.put(BUILTIN_DNS, "enabled");
      out.put(BUILTIN_DNS_PORT, Integer.toString(dnsPort));
    }
    pod.getMetadata().setAnnotations(out);
    return pod;
  }

  private static int resolvePort(Container c, IntOrString port, String kind) {
    if (port == null) {
      throw new InjectionException("spec.containers[" + c.getName() + "] " + kind + " probe: port missing (expected: a port number or name)");
    }
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    for (ContainerPort p : nonNullList(c.getPorts())) {
      if (port.getStrVal().equals(p.getName())) {
        return p.getContainerPort();
      }
    }
    throw new InjectionException("spec.containers[" + c.getName() + "] " + kind + " probe: port \"" + port.getStrVal()
        + "\" (expected: a port number or the name of one of the container's ports)");
  }

  private static EnvVar fieldEnv(String name, String path) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef().withFieldPath(path).endFieldRef().endValueFrom().build();
  }

  private static boolean hasContainer(PodSpec spec, String name) {
    return nonNullList(spec.getContainers()).stream().anyMatch(c -> name.equals(c.getName()))
        || nonNullList(spec.getInitContainers()).stream().anyMatch(c -> name.equals(c.getName()));
  }

  private static String first(String fallback, String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return fallback;
  }

  private static Map<String, String> nonNull(Map<String, String> m) {
    return m == null ? Map.of() : m;
  }

  private static <T> List<T> nonNullList(List<T> l) {
    return l == null ? List.of() : l;
  }
}
