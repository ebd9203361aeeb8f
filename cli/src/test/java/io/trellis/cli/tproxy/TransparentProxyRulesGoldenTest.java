package io.trellis.cli.tproxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.cli.Meshctl;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code meshctl install transparent-proxy --dry-run} for each flag, compared with tproxy/*.golden. */
class TransparentProxyRulesGoldenTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        c("defaults"),
        c("kuma-dp-uid", "--kuma-dp-uid", "1337"),
        c("kuma-dp-user-root", "--kuma-dp-user", "root"),
        c("no-redirect-inbound", "--redirect-inbound=false"),
        c("redirect-inbound-false-separate", "--redirect-inbound", "false"),
        c("ports", "--redirect-inbound-port", "16006", "--redirect-outbound-port", "16001"),
        c("redirect-dns", "--redirect-dns", "--resolv-conf", "src/test/resources/tproxy/resolv.conf"),
        c("redirect-all-dns-traffic", "--redirect-all-dns-traffic", "--redirect-dns-port", "15054"),
        c("exclude-inbound-ports", "--exclude-inbound-ports", "22,8000-8100"),
        c("exclude-outbound-ports", "--exclude-outbound-ports", "5432, 6379"),
        c("exclude-outbound-ports-for-uids", "--exclude-outbound-ports-for-uids", "tcp:22:1000",
            "--exclude-outbound-ports-for-uids", "53,3000-5000:106-108;udp:*:2000", "--redirect-all-dns-traffic"),
        c("exclude-dns-port", "--exclude-outbound-ports", "53", "--redirect-all-dns-traffic"),
        c("exclude-inbound-ips", "--exclude-inbound-ips", "10.0.0.0/8,192.168.1.1"),
        c("exclude-outbound-ips", "--exclude-outbound-ips", "192.168.10.1,fd10::/16", "--ip-family-mode", "dualstack"),
        c("dualstack", "--ip-family-mode", "dualstack", "--redirect-dns", "--resolv-conf",
            "src/test/resources/tproxy/resolv.conf"),
        c("gateway", "--redirect-inbound=false", "--exclude-outbound-ports", "9901", "--kuma-dp-uid", "5678"));
  }

  private static Arguments c(String name, String... flags) {
    return Arguments.of(name, List.of(flags));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void dryRunPrintsTheRules(String name, List<String> flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("install", "transparent-proxy", "--dry-run"));
    args.addAll(flags);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Meshctl.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args.toArray(String[]::new));
    assertThat(exit).as("exit code, stderr: %s", err).isZero();
    Golden.assertMatches(out.toString(), "tproxy/" + name + ".golden");
  }
}
