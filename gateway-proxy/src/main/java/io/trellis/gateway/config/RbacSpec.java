package io.trellis.gateway.config;

import java.util.List;
import java.util.function.Predicate;

/**
 * Envoy RBAC (HTTP or network filter) over the downstream identity. ALLOW: permitted iff some policy
 * matches; DENY: refused iff some policy matches. Permissions and principals we cannot evaluate are
 * rejected at translation time (NACK) rather than guessed, so a policy never silently widens access.
 */
public record RbacSpec(boolean allowAction, List<Policy> policies) {

  /** The downstream peer: its certificate's URI SANs, empty when the connection is not mTLS. */
  public record Peer(List<String> uriSans, boolean authenticated) {
    public static final Peer ANONYMOUS = new Peer(List.of(), false);
  }

  public record Policy(String name, Predicate<Peer> principals) {}

  public boolean permits(Peer peer) {
    boolean any = false;
    for (Policy p : policies) {
      if (p.principals().test(peer)) {
        any = true;
        break;
      }
    }
    return allowAction == any;
  }
}
