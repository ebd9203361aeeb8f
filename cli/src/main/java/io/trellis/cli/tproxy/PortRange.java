package io.trellis.cli.tproxy;

import java.util.ArrayList;
import java.util.List;

/** One port or an inclusive port range, as written in Kuma's port lists ({@code 80} or {@code 1000-2000}). */
public record PortRange(int from, int to) {
  public PortRange {
    if (from < 1 || from > 65535) {
      throw new IllegalArgumentException("port: " + from + " (expected: 1..65535)");
    }
    if (to < from || to > 65535) {
      throw new IllegalArgumentException("port range: " + from + "-" + to + " (expected: a-b with 1 <= a <= b <= 65535)");
    }
  }

  public static PortRange of(int port) {
    return new PortRange(port, port);
  }

  /**
   * Parses a comma-separated list of ports and ranges; blank means none.
   *
   * @param what the flag or annotation being parsed, named in the error
   */
  public static List<PortRange> parseList(String what, String value) {
    List<PortRange> result = new ArrayList<>();
    if (value == null || value.isBlank()) {
      return result;
    }
    for (String raw : value.split(",")) {
      String item = raw.trim();
      if (item.isEmpty()) {
        continue;
      }
      try {
        result.add(parse(item));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            what + ": \"" + item + "\" (expected: comma-separated ports 1..65535 or ranges a-b, e.g. 22,8000-8100)");
      }
    }
    return List.copyOf(result);
  }

  static PortRange parse(String item) {
    int dash = item.indexOf('-');
    if (dash < 0) {
      return of(parseInt(item));
    }
    return new PortRange(parseInt(item.substring(0, dash)), parseInt(item.substring(dash + 1)));
  }

  private static int parseInt(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number: " + s);
    }
  }

  public boolean contains(int port) {
    return port >= from && port <= to;
  }

  /** The form iptables' {@code --dport} takes. */
  public String iptables() {
    return from == to ? Integer.toString(from) : from + ":" + to;
  }

  @Override
  public String toString() {
    return from == to ? Integer.toString(from) : from + "-" + to;
  }
}
