package io.trellis.cli.tproxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The transparent proxy for real: two network namespaces of this test's own ("app", the pod, and
 * "peer", the rest of the network) joined by a veth pair with private addresses, the rules installed
 * by the real {@code meshctl.jar} inside "app", and small listeners answering with their name so each
 * check sees where a connection landed. Root only (CI runs as root); nothing leaves the namespaces.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TransparentProxyNetnsIT {
  private static final long PROXY_UID = 5678;
  private static final long APP_UID = 1000;
  private static final long EXCLUDED_UID = 1001;

  private final String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
  private final String appNs = "trellis-tp-app-" + suffix;
  private final String peerNs = "trellis-tp-peer-" + suffix;
  private final int subnet = ThreadLocalRandom.current().nextInt(1, 254);
  private final String appIp = "10.200." + subnet + ".1";
  private final String peerIp = "10.200." + subnet + ".2";
  /** A second peer address: a resolver the pod's resolv.conf does not list. */
  private final String otherPeerIp = "10.200." + subnet + ".3";
  private final String appIp6 = "fd00:200:" + Integer.toHexString(subnet) + "::1";
  private final String peerIp6 = "fd00:200:" + Integer.toHexString(subnet) + "::2";
  private boolean ipv6;
  private String rules6Before;
  private final List<Process> listeners = new ArrayList<>();
  private boolean created;
  private String rulesBefore;

  @BeforeAll
  void createNamespaces() throws Exception {
    Assumptions.assumeTrue(isRoot(),
        "TransparentProxyNetnsIT needs root (network namespaces, iptables): skipped for uid " + uid()
            + "; CI runs it as root");
    created = true;
    sh("ip", "netns", "add", appNs);
    sh("ip", "netns", "add", peerNs);
    String vethApp = "tpa" + suffix;
    String vethPeer = "tpp" + suffix;
    sh("ip", "link", "add", vethApp, "type", "veth", "peer", "name", vethPeer);
    sh("ip", "link", "set", vethApp, "netns", appNs);
    sh("ip", "link", "set", vethPeer, "netns", peerNs);
    in(appNs, "ip", "addr", "add", appIp + "/29", "dev", vethApp);
    in(peerNs, "ip", "addr", "add", peerIp + "/29", "dev", vethPeer);
    in(peerNs, "ip", "addr", "add", otherPeerIp + "/29", "dev", vethPeer);
    // IPv6 too when the kernel has it (nodad: usable at once, no duplicate address detection wait).
    ipv6 = run(List.of("ip", "netns", "exec", appNs, "ip", "-6", "addr", "add", appIp6 + "/64", "dev", vethApp, "nodad")).isBlank()
        && run(List.of("ip", "netns", "exec", peerNs, "ip", "-6", "addr", "add", peerIp6 + "/64", "dev", vethPeer, "nodad")).isBlank();
    for (String[] nl : new String[][] {{appNs, vethApp}, {peerNs, vethPeer}}) {
      in(nl[0], "ip", "link", "set", "lo", "up");
      in(nl[0], "ip", "link", "set", nl[1], "up");
    }
    // Rules someone else owns: they must survive install + uninstall untouched.
    in(appNs, "iptables", "-t", "nat", "-N", "USER_CHAIN");
    in(appNs, "iptables", "-t", "nat", "-A", "USER_CHAIN", "-p", "tcp", "--dport", "9999", "-j", "RETURN");
    in(appNs, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "--dport", "9999", "-m", "comment", "--comment",
        "pre-existing user rule", "-j", "USER_CHAIN");
    in(appNs, "iptables", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "7777", "-j", "ACCEPT");
    rulesBefore = normalizedRules();
    rules6Before = ipv6 ? normalized(in(appNs, "ip6tables-save")) : "";

    listen(peerNs, 0, "tcp:8080=peer-8080", "tcp:9090=peer-9090", "udp:53=peer-dns");
    listen(appNs, PROXY_UID, "tcp:15001=outbound", "tcp:15006=inbound", "udp:15053=dns");
    listen(appNs, APP_UID, "tcp:7070=app-7070", "tcp:7071=app-7071");
    meshctl("install", "transparent-proxy", "--kuma-dp-uid", Long.toString(PROXY_UID),
        "--exclude-outbound-ports", "9090", "--exclude-inbound-ports", "7071",
        "--exclude-outbound-ports-for-uids", "tcp:8080:" + EXCLUDED_UID, "--redirect-all-dns-traffic");
  }

  @AfterAll
  void deleteNamespaces() throws Exception {
    listeners.forEach(Process::destroyForcibly);
    if (created) {
      // Deleting the namespaces removes the veth pair and every rule inside them.
      run(List.of("ip", "netns", "del", appNs));
      run(List.of("ip", "netns", "del", peerNs));
    }
  }

  @Test
  @Order(1)
  void applicationConnectionLandsOnTheOutboundListener() throws Exception {
    assertThat(probe(appNs, APP_UID, "tcp:" + peerIp + ":8080")).containsExactly("outbound");
  }

  @Test
  @Order(2)
  void proxyUidTrafficIsNotRedirected() throws Exception {
    assertThat(probe(appNs, PROXY_UID, "tcp:" + peerIp + ":8080", "udp:" + peerIp + ":53"))
        .containsExactly("peer-8080", "peer-dns");
  }

  @Test
  @Order(3)
  void excludedPortsAndUidsAreNotRedirected() throws Exception {
    assertThat(probe(appNs, APP_UID, "tcp:" + peerIp + ":9090")).containsExactly("peer-9090");
    assertThat(probe(appNs, EXCLUDED_UID, "tcp:" + peerIp + ":8080", "tcp:" + peerIp + ":8081"))
        .as("uid %s is excluded for tcp/8080 only", EXCLUDED_UID)
        .containsExactly("peer-8080", "outbound");
  }

  @Test
  @Order(4)
  void inboundConnectionLandsOnTheInboundPortExceptExcludedPorts() throws Exception {
    assertThat(probe(peerNs, 0, "tcp:" + appIp + ":7070", "tcp:" + appIp + ":7071"))
        .containsExactly("inbound", "app-7071");
  }

  @Test
  @Order(5)
  void dnsLandsOnTheDnsPort() throws Exception {
    assertThat(probe(appNs, APP_UID, "udp:" + peerIp + ":53")).containsExactly("dns");
  }

  @Test
  @Order(6)
  void installingAgainReplacesInsteadOfDuplicating() throws Exception {
    String once = ourRules();
    meshctl("install", "transparent-proxy", "--kuma-dp-uid", Long.toString(PROXY_UID),
        "--exclude-outbound-ports", "9090", "--exclude-inbound-ports", "7071",
        "--exclude-outbound-ports-for-uids", "tcp:8080:" + EXCLUDED_UID, "--redirect-all-dns-traffic");
    assertThat(ourRules()).isEqualTo(once).contains("TRELLIS_OUTBOUND_REDIRECT");
    assertThat(probe(appNs, APP_UID, "tcp:" + peerIp + ":8080")).containsExactly("outbound");
  }

  @Test
  @Order(7)
  void afterUninstallNothingIsRedirectedAndOtherRulesAreIntact() throws Exception {
    meshctl("uninstall", "transparent-proxy");
    assertThat(normalizedRules()).isEqualTo(rulesBefore).doesNotContain("TRELLIS");
    assertThat(probe(appNs, APP_UID, "tcp:" + peerIp + ":8080", "udp:" + peerIp + ":53"))
        .containsExactly("peer-8080", "peer-dns");
    assertThat(probe(peerNs, 0, "tcp:" + appIp + ":7070")).containsExactly("app-7070");
    assertThat(meshctl("uninstall", "transparent-proxy")).contains("nothing to do");
  }

  @Test
  @Order(8)
  void gatewayModeRedirectsOutboundOnly() throws Exception {
    meshctl("install", "transparent-proxy", "--kuma-dp-uid", Long.toString(PROXY_UID), "--redirect-inbound=false");
    assertThat(probe(peerNs, 0, "tcp:" + appIp + ":7070")).as("no inbound redirection").containsExactly("app-7070");
    assertThat(probe(appNs, APP_UID, "tcp:" + peerIp + ":8080")).containsExactly("outbound");
    meshctl("uninstall", "transparent-proxy");
    assertThat(normalizedRules()).isEqualTo(rulesBefore);
  }

  @Test
  @Order(9)
  void dualStackRedirectsIpv6Too() throws Exception {
    Assumptions.assumeTrue(ipv6, "IPv6 addresses could not be added in the test namespaces: IPv6 part skipped");
    meshctl("install", "transparent-proxy", "--kuma-dp-uid", Long.toString(PROXY_UID), "--ip-family-mode", "dualstack",
        "--exclude-outbound-ports", "9090");
    assertThat(probe(appNs, APP_UID, "tcp:[" + peerIp6 + "]:8080", "tcp:[" + peerIp6 + "]:9090", "tcp:" + peerIp + ":8080"))
        .containsExactly("outbound", "peer-9090", "outbound");
    assertThat(probe(appNs, PROXY_UID, "tcp:[" + peerIp6 + "]:8080")).containsExactly("peer-8080");
    assertThat(probe(peerNs, 0, "tcp:[" + appIp6 + "]:7070")).containsExactly("inbound");
    meshctl("uninstall", "transparent-proxy");
    // The nat table was first loaded by our install: it stays, empty (built-in chains accept all).
    assertThat(rulesOnly(in(appNs, "ip6tables-save"))).isEqualTo(rulesOnly(rules6Before)).isEmpty();
    assertThat(normalizedRules()).isEqualTo(rulesBefore);
    assertThat(probe(appNs, APP_UID, "tcp:[" + peerIp6 + "]:8080")).containsExactly("peer-8080");
  }

  @Test
  @Order(10)
  void redirectDnsOnlyCapturesTheResolversOfResolvConf() throws Exception {
    Path resolvConf = Files.createTempFile("resolv", ".conf");
    try {
      Files.writeString(resolvConf, "search svc.cluster.local\nnameserver " + peerIp + "\n");
      meshctl("install", "transparent-proxy", "--kuma-dp-uid", Long.toString(PROXY_UID), "--redirect-dns",
          "--resolv-conf", resolvConf.toString());
      assertThat(probe(appNs, APP_UID, "udp:" + peerIp + ":53", "udp:" + otherPeerIp + ":53"))
          .as("the listed resolver is captured, another is not")
          .containsExactly("dns", "peer-dns");
      assertThat(probe(appNs, PROXY_UID, "udp:" + peerIp + ":53")).containsExactly("peer-dns");
      meshctl("uninstall", "transparent-proxy");
      assertThat(normalizedRules()).isEqualTo(rulesBefore);
    } finally {
      Files.deleteIfExists(resolvConf);
    }
  }

  // --- helpers -------------------------------------------------------------------------------

  private static boolean isRoot() {
    return "0".equals(uid());
  }

  private static String uid() {
    try {
      return run(List.of("id", "-u")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  private String normalizedRules() throws IOException {
    return normalized(in(appNs, "iptables-save"));
  }

  private static String normalized(String save) {
    // Counters and the timestamp comments differ between two saves of the same rules.
    StringBuilder sb = new StringBuilder();
    for (String line : save.split("\n")) {
      if (!line.startsWith("#")) {
        sb.append(line.replaceAll("\\[\\d+:\\d+\\]", "")).append('\n');
      }
    }
    return sb.toString();
  }

  /** Rules, user chains and non-default policies: what changes behaviour. */
  private static List<String> rulesOnly(String save) {
    return save.lines().filter(l -> l.startsWith("-A ") || (l.startsWith(":") && !l.matches(":\\S+ ACCEPT.*"))).toList();
  }

  private String ourRules() throws IOException {
    return String.join("\n", normalizedRules().lines().filter(l -> l.contains("TRELLIS")).toList());
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private String meshctl(String... args) throws IOException {
    Path jar = Path.of("target", "meshctl.jar").toAbsolutePath();
    assertThat(jar).as("meshctl.jar is built in the package phase").exists();
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", appNs, java(), "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    return sh(cmd.toArray(String[]::new));
  }

  private static List<String> asUid(String ns, long uid, List<String> command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    if (uid != 0) {
      cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
    }
    cmd.addAll(command);
    return cmd;
  }

  private static List<String> probeJvm(String... args) {
    List<String> cmd = new ArrayList<>(List.of(java(), "-XX:TieredStopAtLevel=1", "-Xshare:auto",
        "-Djava.io.tmpdir=/tmp", "-cp", Path.of("target", "test-classes").toAbsolutePath().toString(),
        NetProbe.class.getName()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private void listen(String ns, long uid, String... specs) throws IOException {
    List<String> args = new ArrayList<>(List.of("listen"));
    args.addAll(List.of(specs));
    Process p = new ProcessBuilder(asUid(ns, uid, probeJvm(args.toArray(String[]::new))))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    listeners.add(p);
    String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    assertThat(first).as("listener %s in %s as uid %s started", List.of(specs), ns, uid).isEqualTo("READY");
  }

  private static List<String> probe(String ns, long uid, String... targets) throws IOException {
    List<String> args = new ArrayList<>(List.of("probe"));
    args.addAll(List.of(targets));
    Map<String, String> answers = new LinkedHashMap<>();
    for (String line : run(asUid(ns, uid, probeJvm(args.toArray(String[]::new)))).split("\n")) {
      int sp = line.indexOf(' ');
      if (sp > 0) {
        answers.put(line.substring(0, sp), line.substring(sp + 1));
      }
    }
    return List.of(targets).stream().map(t -> answers.getOrDefault(t, "NO ANSWER")).toList();
  }

  private static String in(String ns, String... command) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    cmd.addAll(List.of(command));
    return sh(cmd.toArray(String[]::new));
  }

  /** Runs a command that must succeed. */
  private static String sh(String... command) throws IOException {
    Path err = Files.createTempFile("netns-it", ".err");
    try {
      Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError(String.join(" ", command) + " failed: " + Files.readString(err) + out);
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    } finally {
      Files.deleteIfExists(err);
    }
  }

  private static String run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      p.waitFor(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }
}
