package io.trellis.injector.inject;

/**
 * What {@link PodInjector} needs to know besides the pod: the resolved configuration, with the CA
 * PEM already read and the cluster's native-sidecar support already decided. A plain value so that
 * the injector stays a pure function (golden-tested).
 */
public record InjectionSettings(
    String systemNamespace,
    String sidecarImage,
    String initImage,
    long uid,
    int inboundPort,
    int outboundPort,
    int dnsPort,
    int adminPort,
    int readinessPort,
    int virtualProbesPort,
    String logLevel,
    String requestsCpu,
    String requestsMemory,
    String limitsCpu,
    String limitsMemory,
    String xdsAddress,
    String xdsCaPem,
    String tokenAudience,
    long tokenExpirationSeconds,
    boolean nativeSidecarByDefault,
    boolean clusterSupportsNativeSidecars,
    boolean builtinDns,
    String ipFamilyMode) {}
