package io.trellis.cli.generate;

import picocli.CommandLine.Command;

/** {@code meshctl generate ...}: generates material locally (nothing is sent to the control plane). */
@Command(
    name = "generate",
    description = "Generate resources, tokens, etc.",
    mixinStandardHelpOptions = true,
    subcommands = {TlsCertificateCommand.class})
public class GenerateCommand {}
