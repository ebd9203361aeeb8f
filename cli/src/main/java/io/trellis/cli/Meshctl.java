package io.trellis.cli;

import picocli.CommandLine;

/** Entry point of {@code meshctl}. */
public final class Meshctl {
  private Meshctl() {}

  /** A configured command line, shared by {@link #main} and the tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new MeshctlCommand()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
