package io.trellis.cli.tproxy;

/** The address family one iptables document is written for. */
public enum IpFamily {
  IPV4("iptables", "127.0.0.1/32", "127.0.0.6/32"),
  IPV6("ip6tables", "::1/128", "::6/128");

  /** The command family: {@code iptables} or {@code ip6tables}. */
  public final String command;
  /** The loopback address an application reaches itself on. */
  public final String loopback;
  /**
   * The source address Envoy uses when it passes an inbound connection on to the application
   * (Kuma's and Istio's convention): such traffic must never be redirected again.
   */
  public final String inboundPassthroughSource;

  IpFamily(String command, String loopback, String inboundPassthroughSource) {
    this.command = command;
    this.loopback = loopback;
    this.inboundPassthroughSource = inboundPassthroughSource;
  }
}
