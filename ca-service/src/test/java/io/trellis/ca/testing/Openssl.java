package io.trellis.ca.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code openssl} binary. */
public final class Openssl {
  private Openssl() {}

  public record Result(int exit, String output) {}

  /** {@code openssl verify -CAfile bundle [-untrusted chain] leaf}, with the files written to {@code dir}. */
  public static Result verify(Path dir, String bundlePem, String chainPem, String leafPem, String... extra)
      throws IOException, InterruptedException {
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), bundlePem);
    Path leaf = Files.writeString(dir.resolve("leaf.pem"), leafPem);
    List<String> cmd = new ArrayList<>(List.of("openssl", "verify", "-CAfile", bundle.toString()));
    if (chainPem != null && !chainPem.isBlank()) {
      cmd.add("-untrusted");
      cmd.add(Files.writeString(dir.resolve("chain.pem"), chainPem).toString());
    }
    cmd.addAll(List.of(extra));
    cmd.add(leaf.toString());
    return run(cmd);
  }

  public static Result run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("openssl timed out: " + cmd);
    }
    return new Result(p.exitValue(), out);
  }

  /** {@code openssl x509 -noout -text} of a PEM certificate. */
  public static String text(Path dir, String pem) throws IOException, InterruptedException {
    Path f = Files.writeString(Files.createTempFile(dir, "cert", ".pem"), pem);
    return run(List.of("openssl", "x509", "-noout", "-text", "-in", f.toString())).output();
  }
}
