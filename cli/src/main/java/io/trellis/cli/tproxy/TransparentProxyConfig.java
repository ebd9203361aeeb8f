package io.trellis.cli.tproxy;

import java.util.List;
import java.util.Objects;

/**
 * Everything {@code meshctl install transparent-proxy} needs to write its rules; defaults are Kuma's
 * (proxy uid 5678, inbound 15006, outbound 15001, DNS 15053).
 *
 * @param dnsServers the resolvers whose port-53 traffic goes to the DNS proxy when not all DNS
 *     traffic is redirected (Kuma reads them from /etc/resolv.conf)
 */
public record TransparentProxyConfig(
    long proxyUid,
    boolean redirectInbound,
    int inboundPort,
    int outboundPort,
    boolean redirectDns,
    boolean redirectAllDnsTraffic,
    int dnsPort,
    List<PortRange> excludeInboundPorts,
    List<PortRange> excludeOutboundPorts,
    List<UidExclusion> excludeOutboundPortsForUids,
    List<Cidr> excludeInboundIps,
    List<Cidr> excludeOutboundIps,
    boolean dualStack,
    List<Cidr> dnsServers) {

  public static final long DEFAULT_UID = 5678;
  public static final int DEFAULT_INBOUND_PORT = 15006;
  public static final int DEFAULT_OUTBOUND_PORT = 15001;
  public static final int DEFAULT_DNS_PORT = 15053;
  public static final int DNS_PORT = 53;

  public TransparentProxyConfig {
    checkPort("--redirect-inbound-port", inboundPort);
    checkPort("--redirect-outbound-port", outboundPort);
    checkPort("--redirect-dns-port", dnsPort);
    if (proxyUid < 0 || proxyUid > 4294967294L) {
      throw new IllegalArgumentException("--kuma-dp-uid: " + proxyUid + " (expected: 0..4294967294)");
    }
    if (redirectInbound && inboundPort == outboundPort) {
      throw new IllegalArgumentException(
          "--redirect-inbound-port: " + inboundPort + " (expected: different from --redirect-outbound-port)");
    }
    excludeInboundPorts = List.copyOf(excludeInboundPorts);
    excludeOutboundPorts = List.copyOf(excludeOutboundPorts);
    excludeOutboundPortsForUids = List.copyOf(excludeOutboundPortsForUids);
    excludeInboundIps = List.copyOf(excludeInboundIps);
    excludeOutboundIps = List.copyOf(excludeOutboundIps);
    dnsServers = List.copyOf(Objects.requireNonNull(dnsServers, "dnsServers"));
  }

  private static void checkPort(String what, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + ": " + port + " (expected: 1..65535)");
    }
  }

  /** Kuma's defaults: inbound and outbound redirected, no DNS, IPv4 only. */
  public static TransparentProxyConfig defaults() {
    return new TransparentProxyConfig(
        DEFAULT_UID, true, DEFAULT_INBOUND_PORT, DEFAULT_OUTBOUND_PORT, false, false, DEFAULT_DNS_PORT,
        List.of(), List.of(), List.of(), List.of(), List.of(), false, List.of());
  }
}
