package io.trellis.api.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kuma duration strings: Go durations ({@code 10s}, {@code 1m30s}, {@code 500ms}, {@code 1.5h},
 * {@code 0}) plus the {@code d} (24h) and {@code y} (365d) units Kuma accepts for certificate
 * lifetimes ({@code 10y}, {@code 1d}).
 */
public final class Durations {
  /** The "expected" part of error messages about durations. */
  public static final String EXPECTED = "duration like 10s, 1m30s, 500ms";

  private static final int MAX_LENGTH = 64;
  private static final Pattern WHOLE =
      Pattern.compile("(?:\\d+(?:\\.\\d+)?(?:ns|us|µs|ms|s|m|h|d|y))+");
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h|d|y)");

  private Durations() {}

  /** Whether {@code text} is a valid non-negative duration. */
  public static boolean isValid(String text) {
    return toDuration(text) != null;
  }

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException {@code "abc" (expected: duration like 10s, 1m30s, 500ms)}
   */
  public static Duration parse(String text) {
    Duration duration = toDuration(text);
    if (duration == null) {
      throw new IllegalArgumentException(
          (text == null ? "null" : "\"" + text + "\"") + " (expected: " + EXPECTED + ")");
    }
    return duration;
  }

  /** The duration, or {@code null} when {@code text} is not one or does not fit (about 292 years). */
  private static Duration toDuration(String text) {
    if (text == null || text.length() > MAX_LENGTH) {
      return null;
    }
    if (text.equals("0")) {
      return Duration.ZERO;
    }
    if (!WHOLE.matcher(text).matches()) {
      return null;
    }
    BigDecimal nanos = BigDecimal.ZERO;
    Matcher m = PART.matcher(text);
    while (m.find()) {
      BigDecimal value = new BigDecimal(m.group(1));
      long unit =
          switch (m.group(2)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            case "d" -> 86_400_000_000_000L;
            default -> 365 * 86_400_000_000_000L;
          };
      nanos = nanos.add(value.multiply(BigDecimal.valueOf(unit)));
    }
    BigDecimal whole = nanos.setScale(0, RoundingMode.DOWN);
    if (whole.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      return null;
    }
    return Duration.ofNanos(whole.longValue());
  }
}
