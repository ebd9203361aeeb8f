package io.trellis.ca.backend;

import io.trellis.ca.Identity;
import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.CsrCheck.CheckedCsr;
import io.trellis.ca.pki.LeafSigner;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/** A backend whose CA key is held here: builtin (generated root) or provided (the user's CA). */
public final class LocalCaBackend implements CaBackend {
  private final String name;
  private final String type;
  private final LeafSigner signer;

  public LocalCaBackend(String name, String type, CaMaterial ca) {
    this.name = name;
    this.type = type;
    this.signer = new LeafSigner(ca);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String type() {
    return type;
  }

  public CaMaterial ca() {
    return signer.ca();
  }

  @Override
  public List<X509Certificate> trustAnchors() {
    return List.of(signer.ca().anchor());
  }

  @Override
  public Issued issue(Identity identity, CheckedCsr csr, Duration lifetime) {
    LeafSigner.Leaf leaf = signer.sign(csr.spkiDer(), identity.uris(), lifetime);
    return new Issued(leaf.pem(), signer.chainPem(), leaf.notBefore(), leaf.notAfter());
  }
}
