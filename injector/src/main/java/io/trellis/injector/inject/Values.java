package io.trellis.injector.inject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Parsing and checking of annotation values; every failure names the annotation and the expected form. */
final class Values {
  private static final Pattern PORT_ITEM = Pattern.compile("\\d{1,5}(-\\d{1,5})?");
  private static final Pattern UID_ENTRY =
      Pattern.compile("((tcp|udp|\\*):)?((\\*|\\d{1,5}(-\\d{1,5})?(,\\d{1,5}(-\\d{1,5})?)*):)?\\d{1,10}(-\\d{1,10})?");
  private static final Pattern IP_ITEM = Pattern.compile("[0-9a-fA-F.:]+(/\\d{1,3})?");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");
  private static final Pattern DNS_LABELS =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern SERVICE = Pattern.compile("[A-Za-z0-9*]([-A-Za-z0-9_.*]*)");

  private Values() {}

  static InjectionException bad(String key, String value, String expected) {
    return new InjectionException(key + ": \"" + value + "\" (expected: " + expected + ")");
  }

  /** enabled/true or disabled/false; anything else is an error. */
  static boolean enabled(String key, String value) {
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "enabled", "true" -> {
        return true;
      }
      case "disabled", "false" -> {
        return false;
      }
      default -> throw bad(key, value, "enabled or disabled");
    }
  }

  /** A comma-separated port list, normalised (spaces dropped). */
  static List<String> ports(String key, String value) {
    List<String> result = new ArrayList<>();
    for (String raw : value.split(",")) {
      String item = raw.trim();
      if (item.isEmpty()) {
        continue;
      }
      if (!PORT_ITEM.matcher(item).matches()) {
        throw bad(key, value, "comma-separated ports 1..65535 or ranges a-b, e.g. 22,8000-8100");
      }
      String[] ends = item.split("-");
      int from = Integer.parseInt(ends[0]);
      int to = Integer.parseInt(ends[ends.length - 1]);
      if (from < 1 || to > 65535 || to < from) {
        throw bad(key, value, "comma-separated ports 1..65535 or ranges a-b, e.g. 22,8000-8100");
      }
      result.add(item);
    }
    return result;
  }

  static int port(String key, String value) {
    try {
      int p = Integer.parseInt(value.trim());
      if (p >= 1 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(key, value, "a port 1..65535");
  }

  static long uid(String key, String value) {
    try {
      long uid = Long.parseLong(value.trim());
      if (uid >= 0 && uid <= 4294967294L) {
        return uid;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(key, value, "a numeric uid 0..4294967294");
  }

  /** {@code ;}-separated {@code [protocol:][ports:]uids} entries (Kuma's form). */
  static List<String> uidExclusions(String key, String value) {
    List<String> result = new ArrayList<>();
    for (String raw : value.split(";")) {
      String item = raw.trim().toLowerCase(Locale.ROOT);
      if (item.isEmpty()) {
        continue;
      }
      if (!UID_ENTRY.matcher(item).matches()) {
        throw bad(key, value, "';'-separated [tcp|udp|*:][ports|*:]uid[-uid] entries, e.g. tcp:22:1000;53:106-108");
      }
      result.add(item);
    }
    return result;
  }

  static List<String> ips(String key, String value) {
    List<String> result = new ArrayList<>();
    for (String raw : value.split(",")) {
      String item = raw.trim();
      if (item.isEmpty()) {
        continue;
      }
      if (!IP_ITEM.matcher(item).matches() || (item.indexOf(':') < 0 && !item.split("/")[0].matches("(\\d{1,3}\\.){3}\\d{1,3}"))) {
        throw bad(key, value, "comma-separated IP addresses or CIDRs, e.g. 10.0.0.0/8,fd00::/16");
      }
      result.add(item);
    }
    return result;
  }

  /** {@code KEY=VALUE;KEY2=VALUE2} (Kuma's form); keys must be environment variable names. */
  static Map<String, String> envVars(String key, String value) {
    Map<String, String> result = new LinkedHashMap<>();
    for (String raw : value.split(";")) {
      if (raw.isBlank()) {
        continue;
      }
      int eq = raw.indexOf('=');
      String name = eq < 0 ? "" : raw.substring(0, eq).trim();
      if (eq < 0 || !ENV_NAME.matcher(name).matches()) {
        throw bad(key, value, "';'-separated NAME=VALUE pairs, e.g. FOO=1;BAR=two");
      }
      result.put(name, raw.substring(eq + 1));
    }
    return result;
  }

  static String logLevel(String key, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "trace", "debug", "info", "warning", "error", "critical", "off" -> v;
      case "warn" -> "warning";
      default -> throw bad(key, value, "one of trace, debug, info, warning, error, critical, off");
    };
  }

  static String mesh(String key, String value) {
    String v = value.trim();
    if (v.length() > 253 || !DNS_LABELS.matcher(v).matches()) {
      throw bad(key, value, "a mesh name: lowercase letters, digits, '-' and '.', e.g. default");
    }
    return v;
  }

  static List<String> services(String key, String value) {
    List<String> result = new ArrayList<>();
    for (String raw : value.split(",")) {
      String item = raw.trim();
      if (item.isEmpty()) {
        continue;
      }
      if (!SERVICE.matcher(item).matches()) {
        throw bad(key, value, "comma-separated kuma.io/service names, e.g. backend_default_svc_80,redis_cache_svc_6379");
      }
      result.add(item);
    }
    return result;
  }

  static String ipFamilyMode(String key, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (!v.equals("ipv4") && !v.equals("dualstack")) {
      throw bad(key, value, "ipv4 or dualstack");
    }
    return v;
  }
}
