package io.trellis.cli;

import io.trellis.cli.tproxy.UninstallTransparentProxyCommand;
import picocli.CommandLine.Command;

/** {@code meshctl uninstall ...}: removes what {@code meshctl install} put on this host. */
@Command(
    name = "uninstall",
    description = "Remove Trellis parts from this host.",
    mixinStandardHelpOptions = true,
    subcommands = {UninstallTransparentProxyCommand.class})
public class UninstallCommand {}
