package io.trellis.policy.kubernetes;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition (informers deliver asynchronously); fails the test when it does not hold in time. */
final class Eventually {
  private Eventually() {}

  static void await(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }
}
