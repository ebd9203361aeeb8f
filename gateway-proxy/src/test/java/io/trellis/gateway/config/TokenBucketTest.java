package io.trellis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Envoy's local rate limit token bucket, driven by an explicit clock. */
class TokenBucketTest {
  static final long MS = 1_000_000L;

  @Test
  void startsFullAndRefusesOnceEmpty() {
    TokenBucket b = new TokenBucket(3, 3, 1000 * MS, 0);
    assertThat(b.tryTake(0)).isTrue();
    assertThat(b.tryTake(1)).isTrue();
    assertThat(b.tryTake(2)).isTrue();
    assertThat(b.tryTake(3)).isFalse();
    assertThat(b.tryTake(999 * MS)).as("not before the interval ends").isFalse();
  }

  @Test
  void eachElapsedIntervalAddsTokensPerFillUpToMax() {
    TokenBucket b = new TokenBucket(4, 1, 100 * MS, 0);
    for (int i = 0; i < 4; i++) {
      assertThat(b.tryTake(0)).isTrue();
    }
    assertThat(b.tryTake(0)).isFalse();
    assertThat(b.tryTake(250 * MS)).as("two fills").isTrue();
    assertThat(b.tryTake(250 * MS)).isTrue();
    assertThat(b.tryTake(250 * MS)).isFalse();
    assertThat(b.tryTake(299 * MS)).as("the interval counts from its start, not from the last take").isFalse();
    assertThat(b.tryTake(300 * MS)).isTrue();
    long later = 60_000 * MS;
    for (int i = 0; i < 4; i++) {
      assertThat(b.tryTake(later)).as("a long pause refills to max, not beyond").isTrue();
    }
    assertThat(b.tryTake(later)).isFalse();
  }

  @Test
  void refusesWhatEnvoyRefuses() {
    assertThatThrownBy(() -> new TokenBucket(0, 1, 1000 * MS, 0)).hasMessage("max_tokens: 0 (expected: at least 1)");
    assertThatThrownBy(() -> new TokenBucket(1, 0, 1000 * MS, 0)).hasMessage("tokens_per_fill: 0 (expected: at least 1)");
    assertThatThrownBy(() -> new TokenBucket(1, 1, 10 * MS, 0)).hasMessage("fill_interval: 10ms (expected: at least 50ms)");
  }
}
