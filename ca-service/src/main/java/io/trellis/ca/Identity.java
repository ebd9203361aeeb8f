package io.trellis.ca;

import io.trellis.ca.pki.CaNames;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The identity a workload certificate is asked for: a mesh and its tags. Its URI SANs are
 * {@code spiffe://<mesh>/<service>} for each {@code kuma.io/service} value and
 * {@code kuma://<key>/<value>} for every tag (DESIGN.md section 5).
 */
public record Identity(String mesh, List<Map.Entry<String, String>> tags) {
  public static final String SERVICE_TAG = "kuma.io/service";
  // Tag keys and values end up verbatim in URIs and RBAC principals: only characters that need no
  // escaping are accepted, so that what is signed is exactly what policies match.
  private static final Pattern TAG_KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?");
  private static final Pattern TAG_VALUE = Pattern.compile("[A-Za-z0-9._~-]{1,253}");

  public Identity {
    tags = List.copyOf(tags);
  }

  /** Validates mesh and tags; throws INVALID_ARGUMENT naming the field. */
  public static Identity of(String mesh, List<Map.Entry<String, String>> tags) throws SignRefused {
    if (!CaNames.valid(mesh)) {
      throw SignRefused.invalid("bad_identity", "mesh: " + (mesh == null || mesh.isEmpty() ? "empty" : "\"" + mesh + "\"")
          + " (expected: a mesh name, lowercase letters, digits, '-', '.')");
    }
    boolean service = false;
    for (int i = 0; i < tags.size(); i++) {
      Map.Entry<String, String> t = tags.get(i);
      if (!TAG_KEY.matcher(t.getKey()).matches()) {
        throw SignRefused.invalid("bad_identity", "tags[" + i + "].key: \"" + t.getKey()
            + "\" (expected: letters, digits, '.', '_', '-', '/')");
      }
      if (!TAG_VALUE.matcher(t.getValue()).matches()) {
        throw SignRefused.invalid("bad_identity", "tags[" + i + "].value: \"" + t.getValue()
            + "\" (expected: 1-253 of letters, digits, '.', '_', '~', '-')");
      }
      service |= t.getKey().equals(SERVICE_TAG);
    }
    if (!service) {
      throw SignRefused.invalid("bad_identity", "tags: no kuma.io/service tag (expected: at least one)");
    }
    return new Identity(mesh, tags);
  }

  public List<String> services() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> t : tags) {
      if (t.getKey().equals(SERVICE_TAG)) {
        out.add(t.getValue());
      }
    }
    return out;
  }

  /** The URI SANs of the leaf, SPIFFE IDs first, without duplicates. */
  public Set<String> uris() {
    Set<String> out = new LinkedHashSet<>();
    for (String s : services()) {
      out.add("spiffe://" + mesh + "/" + s);
    }
    for (Map.Entry<String, String> t : tags) {
      out.add("kuma://" + t.getKey() + "/" + t.getValue());
    }
    return out;
  }
}
