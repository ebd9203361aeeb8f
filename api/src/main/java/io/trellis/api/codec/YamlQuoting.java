package io.trellis.api.codec;

import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import java.util.regex.Pattern;

/**
 * Jackson's plain-scalar check with MINIMIZE_QUOTES, plus what it misses: strings a YAML reader resolves to a
 * number though Jackson writes them bare, such as {@code 1e5} or {@code 70696e67} (exponent without a dot) and
 * {@code .inf} / {@code .nan}. Written bare they read back as floats and the string is lost.
 */
public final class YamlQuoting extends StringQuotingChecker.Default {
  /** YAML 1.2 core schema floats (also what SnakeYAML resolves), and the special values. */
  private static final Pattern FLOAT = Pattern.compile(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  public static final YamlQuoting INSTANCE = new YamlQuoting();

  @Override
  public boolean needToQuoteValue(String value) {
    return super.needToQuoteValue(value) || FLOAT.matcher(value).matches();
  }

  @Override
  protected boolean looksLikeYAMLNumber(String value) {
    return super.looksLikeYAMLNumber(value) || FLOAT.matcher(value).matches();
  }
}
