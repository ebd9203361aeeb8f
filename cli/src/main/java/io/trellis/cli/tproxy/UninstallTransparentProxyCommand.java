package io.trellis.cli.tproxy;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl uninstall transparent-proxy}: removes the TRELLIS_* chains and the rules jumping
 * into them, found in the live {@code iptables-save} output, and nothing else.
 */
@Command(
    name = "transparent-proxy",
    mixinStandardHelpOptions = true,
    description = "Remove the transparent proxy rules (TRELLIS_* chains and the jumps into them); other rules stay.")
public class UninstallTransparentProxyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--iptables-mode", defaultValue = "auto", description = "auto, nft or legacy (default: ${DEFAULT-VALUE}).")
  String iptablesMode;

  @Option(names = "--dry-run", description = "Print the removal documents instead of applying them.")
  boolean dryRun;

  @Option(names = "--verbose", description = "Print what is applied.")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    boolean removed = false;
    for (IpFamily f : IpFamily.values()) {
      Iptables ipt = Iptables.detect(f, iptablesMode);
      String save;
      try {
        save = ipt.save();
      } catch (IOException e) {
        if (f == IpFamily.IPV6) {
          // No IPv6 support on this host: nothing of ours can be there.
          continue;
        }
        throw e;
      }
      String plan = UninstallPlanner.plan(save);
      if (plan.isEmpty()) {
        continue;
      }
      if (dryRun || verbose) {
        out.println("# " + ipt.restoreCommand() + " --noflush");
        out.print(plan);
      }
      if (!dryRun) {
        ipt.restore(plan);
        removed = true;
      }
    }
    if (!dryRun) {
      out.println(removed ? "transparent proxy uninstalled" : "transparent proxy not installed: nothing to do");
    }
    out.flush();
    return 0;
  }
}
