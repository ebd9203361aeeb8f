package io.trellis.cli;

import picocli.CommandLine;

/** Entry point of {@code meshctl}. */
public final class Meshctl {
  private Meshctl() {}

  /** A configured command line, shared by {@link #main} and the tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new MeshctlCommand())
        .setCaseInsensitiveEnumValuesAllowed(true)
        // Failures of the host tools (iptables, files) are reported as one line, not a stack trace.
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("Error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
          cmd.getErr().flush();
          return 1;
        });
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
