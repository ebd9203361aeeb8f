package io.trellis.policy.view;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Virtual IPs for transparent proxying, from Kuma's 240.0.0.0/4 range. An address is derived from a hash of the
 * service name (probing on collision in sorted order), so adding or removing another service does not move it and
 * proxies are not reconfigured for nothing.
 */
final class VirtualIps {
  private static final int RANGE = 1 << 28;

  private VirtualIps() {}

  static Map<String, String> assign(Collection<String> sortedServices) {
    Map<String, String> out = new HashMap<>();
    Set<Integer> used = new HashSet<>();
    MessageDigest sha256 = sha256();
    for (String service : sortedServices) {
      int slot = hash(sha256, service);
      while (slot == 0 || slot == RANGE - 1 || !used.add(slot)) {
        slot = (slot + 1) % RANGE;
      }
      int ip = (240 << 24) | slot;
      out.put(service, ((ip >>> 24) & 0xff) + "." + ((ip >>> 16) & 0xff) + "." + ((ip >>> 8) & 0xff) + "." + (ip & 0xff));
    }
    return out;
  }

  private static int hash(MessageDigest sha256, String service) {
    byte[] d = sha256.digest(service.getBytes(StandardCharsets.UTF_8));
    int v = ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
    return Math.floorMod(v, RANGE);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
