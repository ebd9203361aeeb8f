package io.trellis.xds.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls until an assertion passes or a condition holds; the last failure is rethrown on timeout. */
public final class Await {
  /** An assertion block. */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  private Await() {}

  public static void untilAsserted(Duration timeout, Check check) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError | Exception e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  public static void until(Duration timeout, BooleanSupplier condition) throws Exception {
    untilAsserted(timeout, () -> {
      if (!condition.getAsBoolean()) {
        throw new AssertionError("condition not met within " + timeout);
      }
    });
  }
}
