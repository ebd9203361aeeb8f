package io.trellis.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.api.model.MeshSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuiltinCaTest {
  @TempDir
  Path dir;

  @Test
  void rootIsAnEcP256CaForTheMeshValidTenYears() throws Exception {
    X509Certificate root = BuiltinCa.loadOrCreate(dir, "default", null).cert();
    assertThat(root.getPublicKey()).isInstanceOf(ECPublicKey.class);
    assertThat(((ECPublicKey) root.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
    assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(root.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(root.getKeyUsage()[6]).as("cRLSign").isTrue();
    assertThat(root.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1)).containsExactly("spiffe://default");
    long years = Duration.between(root.getNotBefore().toInstant(), root.getNotAfter().toInstant()).toDays() / 365;
    assertThat(years).isEqualTo(10);
    root.verify(root.getPublicKey());
  }

  @Test
  void restartKeepsTheRootAndTheKeyFileIsPrivate() throws Exception {
    CaMaterial first = BuiltinCa.loadOrCreate(dir, "default", null);
    CaMaterial second = BuiltinCa.loadOrCreate(dir, "default", new MeshSpec.CaCert(4096, null));
    assertThat(second.cert()).isEqualTo(first.cert());
    assertThat(second.key().getEncoded()).isEqualTo(first.key().getEncoded());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(BuiltinCa.FILE_NAME))))
        .isEqualTo("rw-------");
    try (var files = Files.list(dir)) {
      assertThat(files).hasSize(1); // no temp files left behind
    }
  }

  @Test
  void replicasRacingOnFirstUseAgreeOnOneRoot() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<CaMaterial>> tasks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        tasks.add(() -> BuiltinCa.loadOrCreate(dir, "default", null));
      }
      List<X509Certificate> roots = new ArrayList<>();
      for (Future<CaMaterial> f : pool.invokeAll(tasks)) {
        roots.add(f.get().cert());
      }
      assertThat(roots).allMatch(r -> r.equals(roots.get(0)));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void rsaBitsAndExpirationAreHonoured() throws Exception {
    X509Certificate root = BuiltinCa.create("m", new MeshSpec.CaCert(2048, "2y")).cert();
    assertThat(((RSAPublicKey) root.getPublicKey()).getModulus().bitLength()).isEqualTo(2048);
    assertThat(Duration.between(root.getNotBefore().toInstant(), root.getNotAfter().toInstant()).toDays())
        .isBetween(730L, 731L);
  }

  @Test
  void badSettingsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> BuiltinCa.create("m", new MeshSpec.CaCert(1024, null)))
        .hasMessage("caCert.RSAbits: 1024 (expected: 2048 or 4096, or absent for EC P-256)");
    assertThatThrownBy(() -> BuiltinCa.create("m", new MeshSpec.CaCert(null, "ten years")))
        .hasMessage("caCert.expiration: \"ten years\" (expected: duration like 24h, 90d, 10y)");
  }

  @Test
  void aTamperedKeyFileIsRefusedNotReplaced() throws Exception {
    BuiltinCa.loadOrCreate(dir, "default", null);
    String other = Pem.privateKey(Crypto.ecKeyPair("secp256r1").getPrivate());
    String pem = Files.readString(dir.resolve(BuiltinCa.FILE_NAME));
    String cert = pem.substring(0, pem.indexOf("-----BEGIN PRIVATE KEY"));
    Files.writeString(dir.resolve(BuiltinCa.FILE_NAME), cert + other);
    assertThatThrownBy(() -> BuiltinCa.loadOrCreate(dir, "default", null))
        .hasMessageContaining("private key does not match the certificate");
    assertThat(Files.readString(dir.resolve(BuiltinCa.FILE_NAME))).isEqualTo(cert + other);
  }
}
