package io.trellis.ca.bench;

import io.trellis.ca.Identity;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.CsrCheck;
import io.trellis.ca.pki.LeafSigner;
import io.trellis.ca.testing.Csrs;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Where end-to-end issuance time goes (run like {@link SignBench}). */
public final class StageProfile {
  public static void main(String[] args) throws Exception {
    Identity id = Identity.of("default", List.of(Map.entry("kuma.io/service", "web")));
    CaMaterial ca = BuiltinCa.create("default", null);
    LeafSigner signer = new LeafSigner(ca);
    String[] csrs = new String[256];
    for (int i = 0; i < csrs.length; i++) {
      csrs[i] = Csrs.csr(Csrs.p256());
    }
    CsrCheck.CheckedCsr checked = CsrCheck.check(csrs[0], id.uris());
    for (int round = 0; round < 3; round++) {
      int n = 600;
      long t = System.nanoTime();
      for (int i = 0; i < n; i++) {
        CsrCheck.check(csrs[i & 255], id.uris());
      }
      long check = (System.nanoTime() - t) / n;
      t = System.nanoTime();
      for (int i = 0; i < n; i++) {
        signer.sign(checked.publicKey(), id.uris(), Duration.ofHours(1));
      }
      long sign = (System.nanoTime() - t) / n;
      t = System.nanoTime();
      for (int i = 0; i < n; i++) {
        Crypto.signer(ca.key());
      }
      long build = (System.nanoTime() - t) / n;
      System.out.printf("check %d us, sign leaf %d us, build ContentSigner %d us%n", check / 1000, sign / 1000, build / 1000);
    }
  }
}
