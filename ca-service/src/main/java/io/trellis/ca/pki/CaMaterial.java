package io.trellis.ca.pki;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * A CA that signs locally (builtin or provided backend).
 *
 * @param cert the certificate leaves are issued under (a root, or an intermediate)
 * @param key its private key
 * @param chain the certificates above {@code cert}, nearest first, possibly ending in the root
 */
public record CaMaterial(X509Certificate cert, PrivateKey key, List<X509Certificate> chain) {
  public CaMaterial {
    requireNonNull(cert, "cert");
    requireNonNull(key, "key");
    chain = List.copyOf(chain);
  }

  /**
   * The trust anchor that goes into the mesh's trust bundle: the top of the chain (its root when
   * the chain is complete).
   */
  public X509Certificate anchor() {
    return chain.isEmpty() ? cert : chain.get(chain.size() - 1);
  }

  /** What a leaf presents above itself: every certificate from {@code cert} up to, not including, the anchor. */
  public List<X509Certificate> leafChain() {
    List<X509Certificate> out = new ArrayList<>();
    out.add(cert);
    out.addAll(chain);
    out.remove(out.size() - 1);
    return out;
  }
}
