package io.trellis.cli.tproxy;

import java.util.List;
import java.util.Locale;

/**
 * One {@code --exclude-outbound-ports-for-uids} entry in Kuma's form {@code [protocol:][ports:]uids}:
 * protocol {@code tcp}, {@code udp} or {@code *} (both, the default), ports a list/range or {@code *}
 * (all, the default), uids one value or a range {@code a-b}. Example: {@code tcp:22,8000-8100:1000-1002}.
 */
public record UidExclusion(boolean tcp, boolean udp, List<PortRange> ports, long uidFrom, long uidTo) {
  static final String FORM =
      "[tcp|udp|*:][ports|*:]uid or uid-range, e.g. tcp:22:1000 or 53,3000-5000:106-108";

  public UidExclusion {
    ports = List.copyOf(ports);
  }

  public static UidExclusion parse(String what, String value) {
    String v = value == null ? "" : value.trim();
    String[] parts = v.split(":", -1);
    try {
      if (v.isEmpty() || parts.length > 3) {
        throw new IllegalArgumentException();
      }
      boolean tcp = true;
      boolean udp = true;
      List<PortRange> ports = List.of();
      int i = 0;
      if (parts.length == 3) {
        String proto = parts[0].trim().toLowerCase(Locale.ROOT);
        switch (proto) {
          case "tcp" -> udp = false;
          case "udp" -> tcp = false;
          case "*", "" -> {}
          default -> throw new IllegalArgumentException();
        }
        i = 1;
      }
      if (parts.length >= 2) {
        String p = parts[i].trim();
        if (!p.equals("*") && !p.isEmpty()) {
          ports = PortRange.parseList(what, p);
        }
      }
      String uids = parts[parts.length - 1].trim();
      int dash = uids.indexOf('-');
      long from = Long.parseLong(dash < 0 ? uids : uids.substring(0, dash));
      long to = dash < 0 ? from : Long.parseLong(uids.substring(dash + 1));
      if (from < 0 || to < from || to > 4294967294L) {
        throw new IllegalArgumentException();
      }
      return new UidExclusion(tcp, udp, ports, from, to);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + ": \"" + v + "\" (expected: " + FORM + ")");
    }
  }

  /** The form iptables' {@code --uid-owner} takes. */
  public String uidSpec() {
    return uidFrom == uidTo ? Long.toString(uidFrom) : uidFrom + "-" + uidTo;
  }

  public boolean allPorts() {
    return ports.isEmpty();
  }

  @Override
  public String toString() {
    String proto = tcp && udp ? "*" : tcp ? "tcp" : "udp";
    String p = ports.isEmpty() ? "*" : String.join(",", ports.stream().map(PortRange::toString).toList());
    return proto + ":" + p + ":" + uidSpec();
  }
}
