package io.trellis.cli.tproxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.cli.Meshctl;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** Bad flag values are usage errors naming the flag and the expected form. */
class TransparentProxyFlagsTest {
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
    "--exclude-inbound-ports|22,x|--exclude-inbound-ports: \"x\" (expected: comma-separated ports",
    "--exclude-outbound-ports|70000|--exclude-outbound-ports: \"70000\"",
    "--exclude-outbound-ports|9-3|--exclude-outbound-ports: \"9-3\"",
    "--exclude-outbound-ports-for-uids|sctp:22:1000|--exclude-outbound-ports-for-uids: \"sctp:22:1000\" (expected: [tcp|udp|*:]",
    "--exclude-outbound-ports-for-uids|tcp:22:abc|--exclude-outbound-ports-for-uids: \"tcp:22:abc\"",
    "--exclude-inbound-ips|example.com|--exclude-inbound-ips: \"example.com\" (expected: comma-separated IP addresses or CIDRs",
    "--exclude-outbound-ips|10.0.0.0/33|--exclude-outbound-ips: \"10.0.0.0/33\"",
    "--ip-family-mode|ipv6only|--ip-family-mode: ipv6only (expected: ipv4 or dualstack)",
    "--redirect-inbound-port|0|--redirect-inbound-port: 0 (expected: 1..65535)",
    "--redirect-outbound-port|15006|--redirect-inbound-port: 15006 (expected: different from --redirect-outbound-port)",
    "--kuma-dp-user|no-such-user-here|--kuma-dp-user: no-such-user-here (expected: a user in /etc/passwd",
  })
  void badValueIsAUsageError(String flag, String value, String message) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Meshctl.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute("install", "transparent-proxy", "--dry-run", flag, value);
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains(message).doesNotContain("Exception");
    assertThat(out.toString()).isEmpty();
  }
}
