package io.trellis.ca.auth;

import io.grpc.Context;
import java.util.List;
import java.util.Map;

/**
 * An authenticated caller. A local service (service token, e.g. xds-service) may ask for any
 * identity; a dataplane (dataplane token) only for its own mesh and a subset of its own tags.
 */
public record Caller(String name, boolean service, String mesh, Map<String, List<String>> tags) {
  public static final Context.Key<Caller> KEY = Context.key("trellis-ca-caller");

  public static Caller service(String name) {
    return new Caller(name, true, null, Map.of());
  }

  public static Caller dataplane(String mesh, String name, Map<String, List<String>> tags) {
    return new Caller("dataplane:" + mesh + "/" + name, false, mesh, tags);
  }

  public static Caller current() {
    return KEY.get();
  }
}
