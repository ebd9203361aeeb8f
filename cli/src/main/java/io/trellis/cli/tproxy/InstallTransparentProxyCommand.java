package io.trellis.cli.tproxy;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl install transparent-proxy}: Kuma's flags, Trellis' own chains. Installs the nat
 * rules that send a pod's (or host's) TCP traffic through the proxy, atomically, replacing an
 * earlier installation.
 */
@Command(
    name = "transparent-proxy",
    mixinStandardHelpOptions = true,
    description = {
      "Redirect this network namespace's traffic through the proxy (iptables nat rules in TRELLIS_* chains).",
      "Run as root. The proxy must run as the --kuma-dp-uid/--kuma-dp-user user; undo with 'meshctl uninstall transparent-proxy'."
    })
public class InstallTransparentProxyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--kuma-dp-user", description = "Name of the user the proxy runs as (looked up in /etc/passwd).")
  String proxyUser;

  @Option(names = "--kuma-dp-uid", description = "Uid the proxy runs as; its traffic is never redirected (default: ${DEFAULT-VALUE}).",
      defaultValue = "5678")
  long proxyUid;

  @Option(names = "--redirect-inbound", arity = "0..1", defaultValue = "true", fallbackValue = "true",
      description = "Redirect incoming TCP to the proxy; --redirect-inbound=false for gateways (default: ${DEFAULT-VALUE}).")
  boolean redirectInbound;

  @Option(names = "--redirect-inbound-port", defaultValue = "15006", description = "Proxy's inbound port (default: ${DEFAULT-VALUE}).")
  int inboundPort;

  @Option(names = "--redirect-outbound-port", defaultValue = "15001", description = "Proxy's outbound port (default: ${DEFAULT-VALUE}).")
  int outboundPort;

  @Option(names = "--redirect-dns", arity = "0..1", defaultValue = "false", fallbackValue = "true",
      description = "Redirect DNS queries to the resolvers of --resolv-conf to the DNS proxy port.")
  boolean redirectDns;

  @Option(names = "--redirect-all-dns-traffic", arity = "0..1", defaultValue = "false", fallbackValue = "true",
      description = "Redirect all DNS traffic (port 53, any destination) to the DNS proxy port; implies --redirect-dns.")
  boolean redirectAllDns;

  @Option(names = "--redirect-dns-port", defaultValue = "15053", description = "DNS proxy port (default: ${DEFAULT-VALUE}).")
  int dnsPort;

  @Option(names = "--exclude-inbound-ports", description = "Comma-separated inbound ports/ranges not redirected, e.g. 22,8000-8100.")
  String excludeInboundPorts;

  @Option(names = "--exclude-outbound-ports", description = "Comma-separated outbound ports/ranges not redirected.")
  String excludeOutboundPorts;

  @Option(names = "--exclude-outbound-ports-for-uids",
      description = "Outbound traffic not redirected for some uids: [tcp|udp|*:][ports|*:]uid[-uid], e.g. tcp:22:1000 or 53,3000-5000:106-108. Repeatable; ';' separates entries too.")
  List<String> excludeOutboundPortsForUids = new ArrayList<>();

  @Option(names = "--exclude-inbound-ips", description = "Comma-separated source addresses/CIDRs whose inbound traffic is not redirected.")
  String excludeInboundIps;

  @Option(names = "--exclude-outbound-ips", description = "Comma-separated destination addresses/CIDRs not redirected.")
  String excludeOutboundIps;

  @Option(names = "--ip-family-mode", defaultValue = "ipv4", description = "ipv4 or dualstack (also writes ip6tables rules) (default: ${DEFAULT-VALUE}).")
  String ipFamilyMode;

  @Option(names = "--resolv-conf", defaultValue = "/etc/resolv.conf",
      description = "Where the resolvers for --redirect-dns are read from (default: ${DEFAULT-VALUE}).")
  Path resolvConf;

  @Option(names = "--iptables-mode", defaultValue = "auto", description = "auto, nft or legacy (default: ${DEFAULT-VALUE}).")
  String iptablesMode;

  @Option(names = "--dry-run", description = "Print the iptables-restore documents instead of applying them.")
  boolean dryRun;

  @Option(names = "--verbose", description = "Print what is applied.")
  boolean verbose;

  /** Builds the configuration from the flags; every error names the flag and the expected form. */
  TransparentProxyConfig config() throws IOException {
    long uid = proxyUser != null ? Passwd.uidOf(proxyUser) : proxyUid;
    boolean dualStack = switch (ipFamilyMode.toLowerCase(java.util.Locale.ROOT)) {
      case "ipv4" -> false;
      case "dualstack" -> true;
      default -> throw new IllegalArgumentException("--ip-family-mode: " + ipFamilyMode + " (expected: ipv4 or dualstack)");
    };
    List<UidExclusion> uids = new ArrayList<>();
    for (String v : excludeOutboundPortsForUids) {
      for (String entry : v.split(";")) {
        if (!entry.isBlank()) {
          uids.add(UidExclusion.parse("--exclude-outbound-ports-for-uids", entry));
        }
      }
    }
    boolean dns = redirectDns || redirectAllDns;
    List<Cidr> servers = dns && !redirectAllDns ? resolvers(resolvConf) : List.of();
    return new TransparentProxyConfig(
        uid, redirectInbound, inboundPort, outboundPort, dns, redirectAllDns, dnsPort,
        PortRange.parseList("--exclude-inbound-ports", excludeInboundPorts),
        PortRange.parseList("--exclude-outbound-ports", excludeOutboundPorts),
        uids,
        Cidr.parseList("--exclude-inbound-ips", excludeInboundIps),
        Cidr.parseList("--exclude-outbound-ips", excludeOutboundIps),
        dualStack, servers);
  }

  /** The {@code nameserver} lines of a resolv.conf. */
  static List<Cidr> resolvers(Path resolvConf) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(resolvConf);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--resolv-conf: " + resolvConf + " does not exist (expected: a resolv.conf file)");
    }
    List<Cidr> result = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.strip().split("\\s+");
      if (f.length >= 2 && f[0].equals("nameserver")) {
        String addr = f[1].split("%")[0];
        result.add(Cidr.parse("--resolv-conf " + resolvConf + " nameserver", addr));
      }
    }
    return result;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    TransparentProxyConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    List<IpFamily> families = config.dualStack() ? List.of(IpFamily.IPV4, IpFamily.IPV6) : List.of(IpFamily.IPV4);
    if (dryRun) {
      for (IpFamily f : families) {
        out.print(RuleGenerator.render(config, f));
      }
      out.flush();
      return 0;
    }
    for (IpFamily f : IpFamily.values()) {
      Iptables ipt = Iptables.detect(f, iptablesMode);
      String save;
      try {
        save = ipt.save();
      } catch (IOException e) {
        if (!families.contains(f)) {
          continue; // no IPv6 on this host and none asked for
        }
        throw e;
      }
      String previous = UninstallPlanner.plan(save);
      if (!previous.isEmpty()) {
        // Re-running install (e.g. a restarted init container) replaces, never duplicates.
        if (verbose) {
          out.println("# removing the previous installation (" + f.command + ")");
          out.print(previous);
        }
        ipt.restore(previous);
      }
      if (!families.contains(f)) {
        continue;
      }
      String doc = RuleGenerator.render(config, f);
      if (verbose) {
        out.println("# " + ipt.restoreCommand() + " --noflush");
        out.print(doc);
      }
      ipt.restore(doc);
    }
    out.println("transparent proxy installed (" + (config.dualStack() ? "IPv4 and IPv6" : "IPv4") + ", proxy uid "
        + config.proxyUid() + ")");
    out.flush();
    return 0;
  }
}
