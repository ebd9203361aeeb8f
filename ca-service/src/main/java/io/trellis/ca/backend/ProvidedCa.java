package io.trellis.ca.backend;

import io.trellis.api.model.MeshSpec;
import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;

/**
 * The provided backend's CA: the user's certificate (optionally followed by its chain up to the
 * root) and key. Refused unless it is a CA that may sign certificates, its key matches, it is
 * currently valid, and each certificate of the chain is signed by the next.
 */
public final class ProvidedCa {
  private ProvidedCa() {}

  public static CaMaterial load(String mesh, MeshSpec.ProvidedConf conf, DataSources sources) throws IOException {
    if (conf == null) {
      throw new IOException("conf: missing (expected: cert and key data sources)");
    }
    List<X509Certificate> certs;
    try {
      certs = Pem.readCertificates(Pem.utf8(sources.read(mesh, "conf.cert", conf.cert())));
    } catch (IOException e) {
      throw e.getMessage().startsWith("conf.") ? e : new IOException("conf.cert: " + e.getMessage());
    }
    PrivateKey key;
    try {
      key = Pem.readPrivateKey(Pem.utf8(sources.read(mesh, "conf.key", conf.key())));
    } catch (IOException e) {
      throw e.getMessage().startsWith("conf.") ? e : new IOException("conf.key: " + e.getMessage());
    }
    X509Certificate ca = certs.get(0);
    if (ca.getBasicConstraints() < 0) {
      throw new IOException("conf.cert: not a CA certificate (expected: basicConstraints CA:TRUE)");
    }
    boolean[] usage = ca.getKeyUsage();
    if (usage == null || usage.length < 6 || !usage[5]) {
      throw new IOException("conf.cert: key usage lacks keyCertSign (expected: keyCertSign, a CA that may sign certificates)");
    }
    Date now = new Date();
    for (int i = 0; i < certs.size(); i++) {
      X509Certificate c = certs.get(i);
      if (now.before(c.getNotBefore()) || now.after(c.getNotAfter())) {
        throw new IOException("conf.cert: certificate " + i + " (" + c.getSubjectX500Principal().getName()
            + ") is not valid now (valid " + c.getNotBefore().toInstant() + " to " + c.getNotAfter().toInstant() + ")");
      }
      if (i > 0 && c.getBasicConstraints() < 0) {
        throw new IOException("conf.cert: chain certificate " + i + " is not a CA");
      }
      X509Certificate issuer = i + 1 < certs.size() ? certs.get(i + 1) : (isSelfSigned(c) ? c : null);
      if (issuer != null) {
        try {
          c.verify(issuer.getPublicKey(), Crypto.BC);
        } catch (GeneralSecurityException e) {
          throw new IOException("conf.cert: certificate " + i + " is not signed by "
              + (issuer == c ? "itself" : "certificate " + (i + 1)) + " (expected: CA certificate first, then its chain up to the root)");
        }
      }
    }
    if (!Crypto.keysMatch(ca.getPublicKey(), key)) {
      throw new IOException("conf.key: does not match the public key of conf.cert");
    }
    return new CaMaterial(ca, key, certs.subList(1, certs.size()));
  }

  static boolean isSelfSigned(X509Certificate c) {
    if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
      return false;
    }
    try {
      c.verify(c.getPublicKey(), Crypto.BC);
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
