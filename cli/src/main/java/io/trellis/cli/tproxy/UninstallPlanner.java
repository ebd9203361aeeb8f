package io.trellis.cli.tproxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns {@code iptables-save} output into the iptables-restore document that removes exactly what
 * Trellis installed: every rule outside our chains that jumps into one of them, then our chains
 * (flushed, then deleted). Nothing else is touched; applied with {@code --noflush} it is atomic.
 */
public final class UninstallPlanner {
  private static final Pattern JUMP_TO_OURS =
      Pattern.compile("\\s(-j|--jump|-g|--goto)\\s+" + RuleGenerator.CHAIN_PREFIX + "[A-Z0-9_]+(\\s|$)");

  private UninstallPlanner() {}

  /** Whether any of our chains exists in this {@code iptables-save} output. */
  public static boolean installed(String iptablesSave) {
    return !plan(iptablesSave).isEmpty();
  }

  /** The removal document, or an empty string when nothing of ours is installed. */
  public static String plan(String iptablesSave) {
    Map<String, Table> tables = new LinkedHashMap<>();
    Table current = null;
    for (String raw : iptablesSave.split("\n")) {
      String line = raw.strip();
      if (line.startsWith("*")) {
        current = tables.computeIfAbsent(line.substring(1), Table::new);
      } else if (current == null || line.isEmpty() || line.startsWith("#") || line.equals("COMMIT")) {
        continue;
      } else if (line.startsWith(":" + RuleGenerator.CHAIN_PREFIX)) {
        current.ourChains.add(line.substring(1).split("\\s+")[0]);
      } else if (line.startsWith("-A ")) {
        String chain = line.split("\\s+")[1];
        if (!chain.startsWith(RuleGenerator.CHAIN_PREFIX) && JUMP_TO_OURS.matcher(line).find()) {
          current.jumps.add("-D " + line.substring(3));
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (Table t : tables.values()) {
      if (t.ourChains.isEmpty() && t.jumps.isEmpty()) {
        continue;
      }
      out.append('*').append(t.name).append('\n');
      t.jumps.forEach(j -> out.append(j).append('\n'));
      // Flush all before deleting any: our chains reference each other.
      t.ourChains.forEach(c -> out.append("-F ").append(c).append('\n'));
      t.ourChains.forEach(c -> out.append("-X ").append(c).append('\n'));
      out.append("COMMIT\n");
    }
    return out.toString();
  }

  private static final class Table {
    final String name;
    final List<String> ourChains = new ArrayList<>();
    final List<String> jumps = new ArrayList<>();

    Table(String name) {
      this.name = name;
    }
  }
}
