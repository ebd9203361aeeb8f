package io.trellis.cli.tproxy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** An IPv4 or IPv6 address with a prefix length ({@code 10.0.0.0/8}, {@code fd00::1}). */
public record Cidr(InetAddress address, int prefix) {
  static final String FORM = "comma-separated IP addresses or CIDRs, e.g. 10.0.0.0/8,fd00::/16";

  public boolean ipv6() {
    return address instanceof Inet6Address;
  }

  public static List<Cidr> parseList(String what, String value) {
    List<Cidr> result = new ArrayList<>();
    if (value == null || value.isBlank()) {
      return result;
    }
    for (String raw : value.split(",")) {
      String item = raw.trim();
      if (!item.isEmpty()) {
        result.add(parse(what, item));
      }
    }
    return List.copyOf(result);
  }

  public static Cidr parse(String what, String item) {
    String addr = item;
    Integer prefix = null;
    int slash = item.indexOf('/');
    try {
      if (slash >= 0) {
        addr = item.substring(0, slash);
        prefix = Integer.parseInt(item.substring(slash + 1));
      }
      // Only literals: InetAddress.getByName would otherwise resolve host names through DNS.
      if (addr.isEmpty() || !addr.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
        throw new IllegalArgumentException();
      }
      if (addr.indexOf(':') < 0 && addr.split("\\.", -1).length != 4) {
        throw new IllegalArgumentException();
      }
      InetAddress a = InetAddress.getByName(addr);
      int max = a instanceof Inet6Address ? 128 : 32;
      int p = prefix == null ? max : prefix;
      if (p < 0 || p > max) {
        throw new IllegalArgumentException();
      }
      return new Cidr(a, p);
    } catch (IllegalArgumentException | UnknownHostException e) {
      throw new IllegalArgumentException(what + ": \"" + item + "\" (expected: " + FORM + ")");
    }
  }

  /** The form iptables prints and accepts. */
  @Override
  public String toString() {
    String host = address.getHostAddress();
    if (address instanceof Inet6Address) {
      host = compress(host);
    }
    return host + "/" + prefix;
  }

  /** Java prints {@code 0:0:0:0:0:0:0:1}; iptables and people write {@code ::1}. */
  static String compress(String full) {
    String[] groups = full.split(":");
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < groups.length; ) {
      if (Integer.parseInt(groups[i], 16) == 0) {
        int j = i;
        while (j < groups.length && Integer.parseInt(groups[j], 16) == 0) {
          j++;
        }
        if (j - i > bestLen && j - i > 1) {
          bestStart = i;
          bestLen = j - i;
        }
        i = j;
      } else {
        i++;
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < groups.length; i++) {
      if (i == bestStart) {
        sb.append(i == 0 ? "::" : ":");
        i += bestLen - 1;
        continue;
      }
      sb.append(Integer.toHexString(Integer.parseInt(groups[i], 16)));
      if (i < groups.length - 1) {
        sb.append(':');
      }
    }
    return sb.toString();
  }
}
