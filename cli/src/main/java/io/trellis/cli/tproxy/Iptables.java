package io.trellis.cli.tproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code iptables-save}/{@code iptables-restore} (or the ip6tables ones) of the backend the
 * host actually uses: nf_tables and legacy keep separate rule sets, and rules written to the
 * wrong one are silently ignored by the kernel path in use.
 */
public final class Iptables {
  private final IpFamily family;
  private final String variant;

  private Iptables(IpFamily family, String variant) {
    this.family = family;
    this.variant = variant;
  }

  /**
   * Picks the backend: {@code mode} {@code nft} or {@code legacy} forces it; {@code auto} uses the
   * legacy tools only when the legacy tables hold rules and the nf_tables ones do not (a host set up
   * by an older iptables), otherwise the distribution's default {@code iptables-restore}.
   */
  public static Iptables detect(IpFamily family, String mode) throws IOException {
    switch (mode) {
      case "nft" -> {
        return new Iptables(family, "-nft");
      }
      case "legacy" -> {
        return new Iptables(family, "-legacy");
      }
      case "auto" -> {}
      default -> throw new IllegalArgumentException("--iptables-mode: " + mode + " (expected: auto, nft or legacy)");
    }
    if (onPath(family.command + "-legacy-save") && onPath(family.command + "-nft-save")) {
      int legacy = countRules(new Iptables(family, "-legacy").trySave());
      int nft = countRules(new Iptables(family, "-nft").trySave());
      if (legacy > 0 && nft == 0) {
        return new Iptables(family, "-legacy");
      }
    }
    return new Iptables(family, "");
  }

  public String restoreCommand() {
    return family.command + variant + "-restore";
  }

  public String save() throws IOException {
    Result r = run(List.of(family.command + variant + "-save"), null);
    if (r.exit != 0) {
      throw new IOException(family.command + variant + "-save failed (exit " + r.exit + "): " + r.err.strip());
    }
    return r.out;
  }

  /** Applies a document atomically: either every rule in it is in place afterwards or none is. */
  public void restore(String document) throws IOException {
    Result r = run(List.of(restoreCommand(), "--noflush", "--wait", "10"), document);
    if (r.exit != 0) {
      throw new IOException(restoreCommand() + " failed (exit " + r.exit + "): " + r.err.strip());
    }
  }

  private String trySave() {
    try {
      return save();
    } catch (IOException e) {
      return "";
    }
  }

  private static int countRules(String save) {
    int n = 0;
    for (String line : save.split("\n")) {
      if (line.startsWith("-A ")) {
        n++;
      }
    }
    return n;
  }

  private static boolean onPath(String command) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      if (!dir.isEmpty() && new java.io.File(dir, command).canExecute()) {
        return true;
      }
    }
    return false;
  }

  record Result(int exit, String out, String err) {}

  static Result run(List<String> command, String stdin) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException(command.get(0) + " could not be started (is iptables installed?): " + e.getMessage(), e);
    }
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    // iptables output is small: reading stdout fully before stderr cannot dead-lock in practice,
    // but drain stderr on its own thread anyway.
    StringBuilder err = new StringBuilder();
    Thread errReader = new Thread(() -> err.append(readAll(p.getErrorStream())));
    errReader.start();
    String out = readAll(p.getInputStream());
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(command.get(0) + " timed out");
      }
      errReader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return new Result(p.exitValue(), out, err.toString());
  }

  private static String readAll(InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
