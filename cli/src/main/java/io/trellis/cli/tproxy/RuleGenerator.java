package io.trellis.cli.tproxy;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes the iptables-restore document of the transparent proxy for one address family. Pure: the
 * same configuration always gives the same text (golden-tested), nothing is executed here.
 *
 * <p>The document only declares Trellis' own chains and appends two or three jumps to the built-in
 * {@code PREROUTING}/{@code OUTPUT} chains, so that it can be applied with {@code --noflush} next to
 * whatever else is installed, and removed again by {@link UninstallPlanner}.
 */
public final class RuleGenerator {
  public static final String CHAIN_PREFIX = "TRELLIS_";
  public static final String INBOUND = "TRELLIS_INBOUND";
  public static final String INBOUND_REDIRECT = "TRELLIS_INBOUND_REDIRECT";
  public static final String OUTBOUND = "TRELLIS_OUTBOUND";
  public static final String OUTBOUND_REDIRECT = "TRELLIS_OUTBOUND_REDIRECT";
  public static final String DNS = "TRELLIS_DNS";
  public static final String COMMENT_PREFIX = "trellis/";

  private RuleGenerator() {}

  public static String render(TransparentProxyConfig c, IpFamily family) {
    List<String> chains = new ArrayList<>();
    List<String> rules = new ArrayList<>();
    String uid = Long.toString(c.proxyUid());
    List<Cidr> dnsServers = c.dnsServers().stream().filter(s -> s.ipv6() == (family == IpFamily.IPV6)).toList();
    boolean dns = c.redirectDns() && (c.redirectAllDnsTraffic() || !dnsServers.isEmpty());
    boolean dnsPortExcluded = c.excludeOutboundPorts().stream().anyMatch(p -> p.contains(TransparentProxyConfig.DNS_PORT));

    if (c.redirectInbound()) {
      chains.add(INBOUND);
      chains.add(INBOUND_REDIRECT);
    }
    chains.add(OUTBOUND);
    chains.add(OUTBOUND_REDIRECT);
    if (dns) {
      chains.add(DNS);
    }

    // Entry points in the built-in chains: the only rules outside our own chains.
    if (c.redirectInbound()) {
      rules.add(rule("PREROUTING", "-p tcp", "inbound: all incoming TCP goes through " + INBOUND, INBOUND));
    }
    if (dns) {
      rules.add(rule("OUTPUT", "-p udp -m udp --dport 53", "dns: outgoing UDP DNS goes through " + DNS, DNS));
    }
    rules.add(rule("OUTPUT", "-p tcp", "outbound: all outgoing TCP goes through " + OUTBOUND, OUTBOUND));

    if (c.redirectInbound()) {
      for (PortRange p : c.excludeInboundPorts()) {
        rules.add(rule(INBOUND, "-p tcp -m tcp --dport " + p.iptables(), "inbound: port " + p + " excluded", "RETURN"));
      }
      for (Cidr ip : family(c.excludeInboundIps(), family)) {
        rules.add(rule(INBOUND, "-s " + ip, "inbound: source " + ip + " excluded", "RETURN"));
      }
      rules.add(rule(INBOUND, "-p tcp", "inbound: redirect the rest to the proxy", INBOUND_REDIRECT));
      rules.add(rule(INBOUND_REDIRECT, "-p tcp", "inbound: to the proxy inbound port " + c.inboundPort(),
          "REDIRECT --to-ports " + c.inboundPort()));
    }

    // Order matters: every RETURN must come before the final jump to the redirect chain.
    rules.add(rule(OUTBOUND, "-s " + family.inboundPassthroughSource + " -o lo",
        "outbound: the proxy passing inbound traffic to the application", "RETURN"));
    if (c.redirectInbound()) {
      rules.add(rule(OUTBOUND, "! -d " + family.loopback + " -o lo -m owner --uid-owner " + uid,
          "outbound: the proxy calling its own pod address re-enters as inbound", INBOUND_REDIRECT));
    }
    rules.add(rule(OUTBOUND, "-o lo -m owner ! --uid-owner " + uid,
        "outbound: the application calling itself over loopback", "RETURN"));
    rules.add(rule(OUTBOUND, "-m owner --uid-owner " + uid, "outbound: traffic of the proxy itself (uid " + uid + ")", "RETURN"));
    for (UidExclusion u : c.excludeOutboundPortsForUids()) {
      if (!u.tcp()) {
        continue;
      }
      for (String port : portMatches(u, "tcp")) {
        rules.add(rule(OUTBOUND, "-p tcp" + port + " -m owner --uid-owner " + u.uidSpec(),
            "outbound: " + u + " excluded", "RETURN"));
      }
    }
    for (PortRange p : c.excludeOutboundPorts()) {
      rules.add(rule(OUTBOUND, "-p tcp -m tcp --dport " + p.iptables(), "outbound: port " + p + " excluded", "RETURN"));
    }
    for (Cidr ip : family(c.excludeOutboundIps(), family)) {
      rules.add(rule(OUTBOUND, "-d " + ip, "outbound: destination " + ip + " excluded", "RETURN"));
    }
    if (dns && !dnsPortExcluded) {
      String redirect = "REDIRECT --to-ports " + c.dnsPort();
      if (c.redirectAllDnsTraffic()) {
        rules.add(rule(OUTBOUND, "-p tcp -m tcp --dport 53", "dns: TCP DNS to the DNS proxy", redirect));
      } else {
        for (Cidr s : dnsServers) {
          rules.add(rule(OUTBOUND, "-d " + s + " -p tcp -m tcp --dport 53",
              "dns: TCP DNS for resolver " + s + " to the DNS proxy", redirect));
        }
      }
    }
    rules.add(rule(OUTBOUND, "-d " + family.loopback, "outbound: loopback destinations", "RETURN"));
    rules.add(rule(OUTBOUND, "", "outbound: redirect the rest to the proxy", OUTBOUND_REDIRECT));
    rules.add(rule(OUTBOUND_REDIRECT, "-p tcp", "outbound: to the proxy outbound port " + c.outboundPort(),
        "REDIRECT --to-ports " + c.outboundPort()));

    if (dns) {
      rules.add(rule(DNS, "-m owner --uid-owner " + uid, "dns: DNS queries of the proxy itself go upstream", "RETURN"));
      for (UidExclusion u : c.excludeOutboundPortsForUids()) {
        if (u.udp() && (u.allPorts() || u.ports().stream().anyMatch(p -> p.contains(TransparentProxyConfig.DNS_PORT)))) {
          rules.add(rule(DNS, "-m owner --uid-owner " + u.uidSpec(), "dns: " + u + " excluded", "RETURN"));
        }
      }
      if (dnsPortExcluded) {
        rules.add(rule(DNS, "", "dns: port 53 excluded by --exclude-outbound-ports", "RETURN"));
      }
      for (Cidr ip : family(c.excludeOutboundIps(), family)) {
        rules.add(rule(DNS, "-d " + ip, "dns: destination " + ip + " excluded", "RETURN"));
      }
      String redirect = "REDIRECT --to-ports " + c.dnsPort();
      if (c.redirectAllDnsTraffic()) {
        rules.add(rule(DNS, "-p udp", "dns: all UDP DNS to the DNS proxy port " + c.dnsPort(), redirect));
      } else {
        for (Cidr s : dnsServers) {
          rules.add(rule(DNS, "-d " + s + " -p udp", "dns: UDP DNS for resolver " + s + " to the DNS proxy port " + c.dnsPort(), redirect));
        }
      }
    }

    StringBuilder out = new StringBuilder();
    out.append("# meshctl install transparent-proxy (").append(family.command).append(")\n");
    out.append("*nat\n");
    for (String chain : chains) {
      out.append(':').append(chain).append(" - [0:0]\n");
    }
    for (String r : rules) {
      out.append(r).append('\n');
    }
    out.append("COMMIT\n");
    return out.toString();
  }

  private static List<String> portMatches(UidExclusion u, String proto) {
    if (u.allPorts()) {
      return List.of("");
    }
    return u.ports().stream().map(p -> " -m " + proto + " --dport " + p.iptables()).toList();
  }

  private static List<Cidr> family(List<Cidr> cidrs, IpFamily family) {
    return cidrs.stream().filter(c -> c.ipv6() == (family == IpFamily.IPV6)).toList();
  }

  private static String rule(String chain, String match, String comment, String target) {
    StringBuilder sb = new StringBuilder("-A ").append(chain);
    if (!match.isEmpty()) {
      sb.append(' ').append(match);
    }
    sb.append(" -m comment --comment \"").append(COMMENT_PREFIX).append(comment).append('"');
    sb.append(" -j ").append(target);
    return sb.toString();
  }
}
