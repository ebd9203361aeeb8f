package io.trellis.e2e.harness;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Polls a condition until it holds; the last exception (if any) is kept as the failure's cause. */
public final class Await {
  private Await() {}

  public static void until(Duration timeout, String what, Callable<Boolean> condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (true) {
      try {
        if (Boolean.TRUE.equals(condition.call())) {
          return;
        }
        last = null;
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + ": " + what, last);
      }
      Processes.sleep(200);
    }
  }
}
