package io.trellis.ca.bench;

import io.trellis.ca.Identity;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.LocalCaBackend;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.CsrCheck;
import io.trellis.ca.testing.Csrs;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Issuance benchmark (not a test; run by {@code bench/sign-bench.sh} pinned to one core):
 * ECDSA P-256 CSRs signed per second end to end (parse + verify CSR + build + sign leaf + PEM), next
 * to the raw BouncyCastle ECDSA P-256 sign+verify rate in the same JVM, then latency percentiles
 * at half the measured end-to-end rate.
 */
public final class SignBench {
  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
    Identity id = Identity.of("default", List.of(Map.entry("kuma.io/service", "web"), Map.entry("version", "v1")));
    LocalCaBackend ca = new LocalCaBackend("ca-1", "builtin", BuiltinCa.create("default", null));
    String[] csrs = new String[512];
    for (int i = 0; i < csrs.length; i++) {
      csrs[i] = Csrs.csr(Csrs.p256());
    }
    KeyPair raw = Crypto.ecKeyPair("secp256r1");
    // like real CSRs, every verification meets a public key it has not seen (no cached precomputation)
    KeyPair[] peers = new KeyPair[512];
    byte[][] peerSigs = new byte[512][];
    for (int i = 0; i < peers.length; i++) {
      peers[i] = Crypto.ecKeyPair("secp256r1");
      Signature s = Signature.getInstance("SHA256withECDSA", Crypto.BC);
      s.initSign(peers[i].getPrivate());
      s.update(new byte[300]);
      peerSigs[i] = s.sign();
    }
    java.security.KeyFactory kf = java.security.KeyFactory.getInstance("EC", Crypto.BC);
    byte[][] peerKeys = new byte[512][];
    for (int i = 0; i < peers.length; i++) {
      peerKeys[i] = peers[i].getPublic().getEncoded();
    }
    byte[] msg = new byte[300];

    Op e2e = i -> {
      CaBackend.Issued issued = ca.issue(id, CsrCheck.check(csrs[i & 511], id.uris()), Duration.ofHours(24));
      if (issued.leafPem().isEmpty()) {
        throw new IllegalStateException();
      }
    };
    Op reference = i -> {
      Signature s = Signature.getInstance("SHA256withECDSA", Crypto.BC);
      s.initSign(raw.getPrivate());
      s.update(msg);
      s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA", Crypto.BC);
      v.initVerify(kf.generatePublic(new java.security.spec.X509EncodedKeySpec(peerKeys[i & 511])));
      v.update(new byte[300]);
      if (!v.verify(peerSigs[i & 511])) {
        throw new IllegalStateException();
      }
    };
    System.out.printf("warm-up (%.0fs each)…%n", seconds);
    rate(e2e, seconds);
    rate(reference, seconds);
    double refRate = rate(reference, seconds);
    double e2eRate = rate(e2e, seconds);
    System.out.printf("raw BC P-256 sign + verify(new key): %8.0f ops/s%n", refRate);
    System.out.printf("end-to-end CSR -> leaf (P-256)     : %8.0f certs/s  (%.0f%% of raw)%n", e2eRate, 100 * e2eRate / refRate);
    long[] lat = paced(e2e, e2eRate / 2, seconds);
    System.out.printf("latency at %.0f certs/s (half rate): p50 %.3f ms, p99 %.3f ms, max %.3f ms%n", e2eRate / 2,
        lat[lat.length / 2] / 1e6, lat[(int) (lat.length * 0.99)] / 1e6, lat[lat.length - 1] / 1e6);
  }

  interface Op {
    void run(int i) throws Exception;
  }

  static double rate(Op op, double seconds) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    int n = 0;
    while (System.nanoTime() < end) {
      op.run(n++);
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  /** Runs at a fixed rate; latency counts from each operation's scheduled start (no coordinated omission). */
  static long[] paced(Op op, double perSecond, double seconds) throws Exception {
    int total = (int) (perSecond * seconds);
    long interval = (long) (1e9 / perSecond);
    long[] lat = new long[total];
    long t0 = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long due = t0 + i * interval;
      while (System.nanoTime() < due) {
        Thread.onSpinWait();
      }
      op.run(i);
      lat[i] = System.nanoTime() - due;
    }
    Arrays.sort(lat);
    return lat;
  }
}
