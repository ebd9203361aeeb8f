package io.trellis.ca.pki;

import io.trellis.api.model.Durations;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in CA settings. Kuma writes CA lifetimes as {@code 10y} or {@code 365d}, which Go
 * durations (and {@link Durations}) do not accept, so whole days and years are read here first.
 */
public final class CaDurations {
  private static final Pattern DAYS_YEARS = Pattern.compile("(\\d+)([dy])");

  private CaDurations() {}

  public static Duration parse(String field, String text) {
    if (text != null) {
      Matcher m = DAYS_YEARS.matcher(text);
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return m.group(2).equals("d") ? Duration.ofDays(n) : Duration.ofDays(365 * n);
      }
    }
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + (text == null ? "null" : "\"" + text + "\"")
          + " (expected: duration like 24h, 90d, 10y)");
    }
  }
}
