package io.trellis.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code meshctl version}: prints the client version. */
@Command(name = "version", description = "Print the meshctl version.")
public class VersionCommand implements Runnable {
  static String version() {
    String v = VersionCommand.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public void run() {
    System.out.println("meshctl " + version());
  }

  /** Feeds {@code meshctl --version}. */
  public static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"meshctl " + version()};
    }
  }
}
