package io.trellis.gateway.config;

/**
 * Envoy's local rate limit token bucket: it starts full with {@code maxTokens}; every {@code fillInterval} adds
 * {@code tokensPerFill}, never above {@code maxTokens}; each request (or connection) takes one token or is refused.
 * One bucket per filter configuration, shared by all event loops (as Envoy shares it across workers), refilled
 * lazily from the clock when taken from.
 */
public final class TokenBucket {
  private final long maxTokens;
  private final long tokensPerFill;
  private final long fillIntervalNanos;
  private long tokens;
  /** Start of the current fill interval (System.nanoTime). */
  private long intervalStart;

  public TokenBucket(long maxTokens, long tokensPerFill, long fillIntervalNanos, long nowNanos) {
    if (maxTokens < 1) {
      throw new IllegalArgumentException("max_tokens: " + maxTokens + " (expected: at least 1)");
    }
    if (tokensPerFill < 1) {
      throw new IllegalArgumentException("tokens_per_fill: " + tokensPerFill + " (expected: at least 1)");
    }
    if (fillIntervalNanos < 50_000_000L) {
      // Envoy's own lower bound for the local rate limit's fill interval
      throw new IllegalArgumentException("fill_interval: " + fillIntervalNanos / 1_000_000 + "ms (expected: at least 50ms)");
    }
    this.maxTokens = maxTokens;
    this.tokensPerFill = tokensPerFill;
    this.fillIntervalNanos = fillIntervalNanos;
    this.tokens = maxTokens;
    this.intervalStart = nowNanos;
  }

  /** Takes one token if there is one. */
  public synchronized boolean tryTake(long nowNanos) {
    long elapsed = nowNanos - intervalStart;
    if (elapsed >= fillIntervalNanos) {
      long fills = elapsed / fillIntervalNanos;
      tokens = fills >= maxTokens ? maxTokens : Math.min(maxTokens, tokens + fills * tokensPerFill);
      intervalStart += fills * fillIntervalNanos;
    }
    if (tokens == 0) {
      return false;
    }
    tokens--;
    return true;
  }

  @Override
  public String toString() {
    return maxTokens + " max, +" + tokensPerFill + " per " + fillIntervalNanos / 1_000_000 + "ms";
  }
}
