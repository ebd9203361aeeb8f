package io.trellis.ca.bench;

import io.trellis.ca.Identity;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.LocalCaBackend;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.CsrCheck;
import io.trellis.ca.testing.Csrs;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * Issuance benchmark (not a test; run by {@code bench/sign-bench.sh} pinned to one core): ECDSA
 * P-256 CSRs signed end to end (PEM parse + verify CSR + checks + build + sign leaf + PEM) next to
 * two references measured in the same run on the same thread:
 * <ul>
 *   <li>raw BC: BouncyCastle's lightweight ECDSA P-256, one sign + one verify with a public key
 *       never seen before (decoded from its SubjectPublicKeyInfo), SHA-256 of 300 bytes each: the
 *       cryptographic work one issuance cannot avoid;
 *   <li>JCA BC: the same through {@code java.security.Signature} with the BouncyCastle provider;
 *   <li>the previous end-to-end path ({@link PreviousPath}), to show what the hand-assembled leaf gained.
 * </ul>
 * The three are interleaved in short slices so that a machine shared with other jobs slows them
 * alike; rates are given per second of this thread's CPU time (one core's worth of work) and per
 * second of wall time. Then latency at half the end-to-end rate, from each request's scheduled
 * start (no coordinated omission), plus each request's own CPU time.
 */
public final class SignBench {
  static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
    Identity id = Identity.of("default", List.of(Map.entry("kuma.io/service", "web"), Map.entry("version", "v1")));
    LocalCaBackend ca = new LocalCaBackend("ca-1", "builtin", BuiltinCa.create("default", null));
    String[] csrs = new String[512];
    for (int i = 0; i < csrs.length; i++) {
      csrs[i] = Csrs.csr(Csrs.p256());
    }
    // like real CSRs, every verification meets a public key it has not seen (no cached precomputation)
    KeyPair raw = Crypto.ecKeyPair("secp256r1");
    byte[] msg = new byte[300];
    KeyPair[] peers = new KeyPair[512];
    byte[][] peerSigs = new byte[512][];
    byte[][] peerKeys = new byte[512][];
    BigInteger[][] peerRs = new BigInteger[512][];
    ECDSASigner peerSigner = new ECDSASigner();
    for (int i = 0; i < peers.length; i++) {
      peers[i] = Crypto.ecKeyPair("secp256r1");
      peerKeys[i] = peers[i].getPublic().getEncoded();
      Signature s = Signature.getInstance("SHA256withECDSA", Crypto.BC);
      s.initSign(peers[i].getPrivate());
      s.update(msg);
      peerSigs[i] = s.sign();
      peerSigner.init(true, PrivateKeyFactory.createKey(peers[i].getPrivate().getEncoded()));
      peerRs[i] = peerSigner.generateSignature(MessageDigest.getInstance("SHA-256").digest(msg));
    }
    java.security.KeyFactory kf = java.security.KeyFactory.getInstance("EC", Crypto.BC);
    ECDSASigner rawSigner = new ECDSASigner();
    rawSigner.init(true, new ParametersWithRandom(
        (ECPrivateKeyParameters) PrivateKeyFactory.createKey(raw.getPrivate().getEncoded()), new java.security.SecureRandom()));

    Op e2e = i -> {
      CaBackend.Issued issued = ca.issue(id, CsrCheck.check(csrs[i & 511], id.uris()), Duration.ofHours(24));
      if (issued.leafPem().isEmpty()) {
        throw new IllegalStateException();
      }
    };
    Op rawBc = i -> {
      rawSigner.generateSignature(MessageDigest.getInstance("SHA-256").digest(msg));
      ECDSASigner v = new ECDSASigner();
      v.init(false, (ECPublicKeyParameters) PublicKeyFactory.createKey(peerKeys[i & 511]));
      BigInteger[] rs = peerRs[i & 511];
      if (!v.verifySignature(MessageDigest.getInstance("SHA-256").digest(msg), rs[0], rs[1])) {
        throw new IllegalStateException();
      }
    };
    Op jcaBc = i -> {
      Signature s = Signature.getInstance("SHA256withECDSA", Crypto.BC);
      s.initSign(raw.getPrivate());
      s.update(msg);
      s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA", Crypto.BC);
      v.initVerify(kf.generatePublic(new java.security.spec.X509EncodedKeySpec(peerKeys[i & 511])));
      v.update(msg);
      if (!v.verify(peerSigs[i & 511])) {
        throw new IllegalStateException();
      }
    };
    PreviousPath previousPath = new PreviousPath(ca.ca());
    Op previous = i -> previousPath.issue(csrs[i & 511], id.uris());
    Op[] ops = {rawBc, jcaBc, e2e, previous};
    System.out.printf("warm-up (%.0fs)…%n", seconds);
    interleaved(ops, seconds);
    Result[] r = interleaved(ops, 3 * seconds);
    System.out.printf("%-46s %10s %10s%n", "", "per CPU-s", "per wall-s");
    System.out.printf("%-46s %10.0f %10.0f ops/s%n", "raw BC P-256 sign + verify(new key)", r[0].cpuRate(), r[0].wallRate());
    System.out.printf("%-46s %10.0f %10.0f ops/s%n", "JCA (BC provider) sign + verify(new key)", r[1].cpuRate(), r[1].wallRate());
    System.out.printf("%-46s %10.0f %10.0f certs/s%n", "end-to-end CSR -> leaf (P-256)", r[2].cpuRate(), r[2].wallRate());
    System.out.printf("%-46s %10.0f %10.0f certs/s%n", "end-to-end, previous path (24570ba)", r[3].cpuRate(), r[3].wallRate());
    System.out.printf("end-to-end / raw BC: %.0f%% (CPU time); previous path: %.0f%%%n", 100 * r[2].cpuRate() / r[0].cpuRate(),
        100 * r[3].cpuRate() / r[0].cpuRate());
    // half of what this machine delivered: on an idle core wall and CPU rates agree; on a shared one,
    // pacing at the CPU rate would only measure the queue behind the other jobs
    double half = Math.min(r[2].cpuRate(), r[2].wallRate()) / 2;
    long[][] lat = paced(e2e, half, seconds);
    System.out.printf("at %.0f certs/s (half the end-to-end rate): latency p50 %.3f ms, p99 %.3f ms, max %.3f ms;"
            + " CPU per request p50 %.3f ms, p99 %.3f ms%n", half,
        lat[0][lat[0].length / 2] / 1e6, lat[0][(int) (lat[0].length * 0.99)] / 1e6, lat[0][lat[0].length - 1] / 1e6,
        lat[1][lat[1].length / 2] / 1e6, lat[1][(int) (lat[1].length * 0.99)] / 1e6);
  }

  interface Op {
    void run(int i) throws Exception;
  }

  record Result(long n, long cpuNanos, long wallNanos) {
    double cpuRate() {
      return n / (cpuNanos / 1e9);
    }

    double wallRate() {
      return n / (wallNanos / 1e9);
    }
  }

  /** Runs the ops in turn, 200 ms each, until {@code seconds} have passed; totals per op. */
  static Result[] interleaved(Op[] ops, double seconds) throws Exception {
    long[] n = new long[ops.length];
    long[] cpu = new long[ops.length];
    long[] wall = new long[ops.length];
    long end = System.nanoTime() + (long) (seconds * 1e9);
    int[] next = new int[ops.length];
    while (System.nanoTime() < end) {
      for (int k = 0; k < ops.length; k++) {
        long c0 = CPU.getCurrentThreadCpuTime();
        long w0 = System.nanoTime();
        long sliceEnd = w0 + 200_000_000L;
        int count = 0;
        while (System.nanoTime() < sliceEnd) {
          ops[k].run(next[k]++);
          count++;
        }
        n[k] += count;
        cpu[k] += CPU.getCurrentThreadCpuTime() - c0;
        wall[k] += System.nanoTime() - w0;
      }
    }
    Result[] out = new Result[ops.length];
    for (int k = 0; k < ops.length; k++) {
      out[k] = new Result(n[k], cpu[k], wall[k]);
    }
    return out;
  }

  /** Runs at a fixed rate: [0] latency from each scheduled start, [1] CPU time of each request; both sorted. */
  static long[][] paced(Op op, double perSecond, double seconds) throws Exception {
    int total = (int) (perSecond * seconds);
    long interval = (long) (1e9 / perSecond);
    long[] lat = new long[total];
    long[] cpu = new long[total];
    long t0 = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long due = t0 + i * interval;
      while (System.nanoTime() < due) {
        Thread.onSpinWait();
      }
      long c0 = CPU.getCurrentThreadCpuTime();
      op.run(i);
      cpu[i] = CPU.getCurrentThreadCpuTime() - c0;
      lat[i] = System.nanoTime() - due;
    }
    Arrays.sort(lat);
    Arrays.sort(cpu);
    return new long[][] {lat, cpu};
  }
}
