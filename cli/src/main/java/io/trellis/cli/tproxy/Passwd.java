package io.trellis.cli.tproxy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Looks a user name up in /etc/passwd (what Kuma's --kuma-dp-user does, without cgo/NSS). */
final class Passwd {
  private Passwd() {}

  static long uidOf(String user) throws IOException {
    Path passwd = Path.of("/etc/passwd");
    if (user.chars().allMatch(Character::isDigit) && !user.isEmpty()) {
      return Long.parseLong(user);
    }
    for (String line : Files.readAllLines(passwd)) {
      String[] f = line.split(":");
      if (f.length > 2 && f[0].equals(user)) {
        return Long.parseLong(f[2]);
      }
    }
    throw new IllegalArgumentException("--kuma-dp-user: " + user + " (expected: a user in /etc/passwd, or use --kuma-dp-uid)");
  }
}
