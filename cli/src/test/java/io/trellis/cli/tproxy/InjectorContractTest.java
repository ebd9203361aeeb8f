package io.trellis.cli.tproxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.trellis.cli.Meshctl;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The contract between the injector and this command: every kuma-init command line in the
 * injector's golden pods is accepted by {@code meshctl install transparent-proxy} (dry run) and
 * produces rules matching what the pod asked for.
 */
class InjectorContractTest {
  private static final Path GOLDEN = Path.of("..", "injector", "src", "test", "resources", "inject");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static Stream<String> injectedPods() throws Exception {
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.list(GOLDEN)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".golden.yaml")).sorted().toList()) {
        if (YAML.readTree(p.toFile()).path("patched").asBoolean()) {
          names.add(p.getFileName().toString());
        }
      }
    }
    assertThat(names).as("injected golden pods in %s", GOLDEN).hasSizeGreaterThan(15);
    return names.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("injectedPods")
  void initContainerCommandIsAcceptedByMeshctl(String file) throws Exception {
    JsonNode pod = YAML.readTree(GOLDEN.resolve(file).toFile()).get("pod");
    JsonNode init = null;
    for (JsonNode c : pod.path("spec").path("initContainers")) {
      if (c.path("name").asText().equals("kuma-init")) {
        init = c;
      }
    }
    assertThat(init).as("kuma-init in %s", file).isNotNull();
    List<String> args = new ArrayList<>();
    init.get("command").forEach(a -> args.add(a.asText()));
    assertThat(args.subList(0, 3)).containsExactly("meshctl", "install", "transparent-proxy");
    List<String> run = new ArrayList<>(args.subList(1, args.size()));
    run.addAll(List.of("--dry-run", "--resolv-conf", "src/test/resources/tproxy/resolv.conf"));

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Meshctl.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    assertThat(cmd.execute(run.toArray(String[]::new))).as("exit code; stderr: %s", err).isZero();

    String rules = out.toString();
    assertThat(rules).contains("-j TRELLIS_OUTBOUND_REDIRECT");
    String uid = pod.path("metadata").path("annotations").path("kuma.io/sidecar-uid").asText();
    assertThat(rules).contains("--uid-owner " + uid + " ");
    boolean gateway = "enabled".equals(pod.path("metadata").path("annotations").path("kuma.io/gateway").asText());
    assertThat(rules.contains("-A PREROUTING")).as("inbound redirection unless a gateway").isEqualTo(!gateway);
    int i = args.indexOf("--exclude-inbound-ports");
    if (i > 0) {
      for (String port : args.get(i + 1).split(",")) {
        assertThat(rules).contains("--dport " + port.replace('-', ':') + " -m comment --comment \"trellis/inbound: port");
      }
    }
  }
}
