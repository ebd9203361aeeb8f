package io.trellis.cli;

import io.trellis.cli.tproxy.InstallTransparentProxyCommand;
import picocli.CommandLine.Command;

/** {@code meshctl install ...}: installs parts of the mesh on this host. */
@Command(
    name = "install",
    description = "Install Trellis parts on this host.",
    mixinStandardHelpOptions = true,
    subcommands = {InstallTransparentProxyCommand.class})
public class InstallCommand {}
