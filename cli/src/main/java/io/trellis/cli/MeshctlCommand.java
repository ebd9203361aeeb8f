package io.trellis.cli;

import io.trellis.cli.generate.GenerateCommand;
import picocli.CommandLine.Command;

/** {@code meshctl}: the Trellis command line (Kuma's kumactl, for Trellis). */
@Command(
    name = "meshctl",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Trellis service mesh command line.",
    subcommands = {VersionCommand.class, InstallCommand.class, UninstallCommand.class, GenerateCommand.class})
public class MeshctlCommand {}
