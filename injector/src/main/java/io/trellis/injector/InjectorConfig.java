package io.trellis.injector;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** {@code trellis.injector.*}: what the injected sidecar and init container look like. */
@ConfigMapping(prefix = "trellis.injector")
public interface InjectorConfig {
  /** The control plane's own namespace: its pods are never injected. */
  @WithDefault("trellis-system")
  String systemNamespace();

  /** Cluster version override (e.g. 1.31); without it the API server's /version is asked once. */
  Optional<String> kubernetesVersion();

  /** Inject the sidecar as a native sidecar (init container with restartPolicy Always) on Kubernetes >= 1.29. */
  @WithDefault("false")
  boolean nativeSidecar();

  Sidecar sidecar();

  Init init();

  Xds xds();

  /** Redirect DNS to the sidecar's DNS port unless a pod says otherwise ({@code kuma.io/builtin-dns}). */
  @WithDefault("false")
  boolean builtinDns();

  /** ipv4 or dualstack, unless a pod says otherwise. */
  @WithDefault("ipv4")
  String ipFamilyMode();

  interface Sidecar {
    @WithDefault("envoyproxy/envoy:v1.36.2")
    String image();

    @WithDefault("5678")
    long uid();

    @WithDefault("15006")
    int inboundPort();

    @WithDefault("15001")
    int outboundPort();

    @WithDefault("15053")
    int dnsPort();

    @WithDefault("9901")
    int adminPort();

    /** Where the kubelet asks the sidecar whether it is ready (only {@code /ready} is served there). */
    @WithDefault("9902")
    int readinessPort();

    @WithDefault("9000")
    int virtualProbesPort();

    @WithDefault("info")
    String logLevel();

    @WithDefault("50m")
    String requestsCpu();

    @WithDefault("64Mi")
    String requestsMemory();

    @WithDefault("1000m")
    String limitsCpu();

    @WithDefault("512Mi")
    String limitsMemory();
  }

  interface Init {
    @WithDefault("ghcr.io/trellis-mesh/meshctl:0.1.0")
    String image();
  }

  interface Xds {
    /** host:port of xds-service as seen from pods. */
    @WithDefault("xds-service.trellis-system.svc:5678")
    String address();

    /** PEM file of the CA that signed xds-service's certificate; inlined into every bootstrap. */
    String caFile();

    /** Audience of the projected ServiceAccount token the sidecar presents to xds-service. */
    @WithDefault("trellis-xds")
    String tokenAudience();

    @WithDefault("3600")
    long tokenExpirationSeconds();
  }
}
