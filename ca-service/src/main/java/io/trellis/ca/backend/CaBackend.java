package io.trellis.ca.backend;

import io.trellis.ca.Identity;
import io.trellis.ca.SignRefused;
import io.trellis.ca.pki.CsrCheck.CheckedCsr;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** One loaded CA backend of a mesh (builtin, provided or vault). */
public interface CaBackend extends AutoCloseable {
  String name();

  /** {@code builtin}, {@code provided} or {@code vault}. */
  String type();

  /** Certificates this backend contributes to the mesh's trust bundle (its root, or the top of its chain). */
  List<X509Certificate> trustAnchors();

  /**
   * Signs a leaf for {@code identity}. Failures of the backend itself (e.g. Vault unreachable) are
   * UNAVAILABLE; nothing else is ever substituted.
   */
  Issued issue(Identity identity, CheckedCsr csr, Duration lifetime) throws SignRefused;

  @Override
  default void close() {}

  /** An issued leaf: PEM of the leaf and of the certificates it presents above itself. */
  record Issued(String leafPem, String chainPem, Instant notBefore, Instant notAfter) {}
}
