package io.trellis.gateway.config;

import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** Envoy's {@code type.matcher.v3.StringMatcher} as a predicate. */
public final class StringMatch {
  private StringMatch() {}

  public static Predicate<String> of(StringMatcher m, String field) {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> eq(m.getExact(), ic);
      case PREFIX -> s -> s != null && (ic ? lower(s).startsWith(lower(m.getPrefix())) : s.startsWith(m.getPrefix()));
      case SUFFIX -> s -> s != null && (ic ? lower(s).endsWith(lower(m.getSuffix())) : s.endsWith(m.getSuffix()));
      case CONTAINS -> s -> s != null && (ic ? lower(s).contains(lower(m.getContains())) : s.contains(m.getContains()));
      case SAFE_REGEX -> regex(m.getSafeRegex().getRegex(), field + ".safe_regex.regex");
      default -> throw new IllegalArgumentException(field + ": " + m.getMatchPatternCase()
          + " (expected: exact, prefix, suffix, contains or safe_regex)");
    };
  }

  static Predicate<String> eq(String expected, boolean ignoreCase) {
    return ignoreCase ? s -> expected.equalsIgnoreCase(s) : expected::equals;
  }

  /** Envoy's regexes are RE2 and must match the whole value; java.util.regex covers the RE2 syntax we meet. */
  static Predicate<String> regex(String re, String field) {
    Pattern p;
    try {
      p = Pattern.compile(re);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(field + ": " + re + " (expected: a valid RE2 regex)");
    }
    return s -> s != null && p.matcher(s).matches();
  }

  private static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}
