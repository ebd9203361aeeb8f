package io.trellis.xds.identity;

import io.trellis.api.ca.v1.CertificateAuthorityGrpc;
import io.trellis.api.ca.v1.SignRequest;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.Tag;
import io.trellis.xds.Upstreams;
import io.trellis.xds.translate.Names;
import io.trellis.xds.translate.SecretTranslator;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** Generates a workload key, has ca-service sign its CSR, and says when to renew. */
@ApplicationScoped
public class IdentityIssuer {
  private final Upstreams upstreams;

  public IdentityIssuer(Upstreams upstreams) {
    this.upstreams = upstreams;
  }

  /** A signed identity and its validity. */
  public record Issued(SecretTranslator.Identity identity, Instant notBefore, Instant notAfter) {
    /** Renew after 80% of the lifetime (DESIGN.md section 5), well before any proxy could see it expire. */
    public Instant renewAt() {
      Duration life = Duration.between(notBefore, notAfter);
      return notBefore.plus(life.multipliedBy(8).dividedBy(10));
    }
  }

  /** Blocking: signs an identity for {@code tags} (all inbound tags of the proxy, merged by key). */
  public Issued issue(String mesh, Map<String, List<String>> tags) {
    KeyPair key = Csr.generateKey();
    List<String> sans = new ArrayList<>();
    SignRequest.Builder req = SignRequest.newBuilder().setMesh(mesh);
    new TreeMap<>(tags).forEach((k, values) -> values.stream().sorted().distinct().forEach(v -> {
      req.addTags(Tag.newBuilder().setKey(k).setValue(v));
      sans.add("kuma.io/service".equals(k) ? Names.spiffeId(mesh, v) : Names.tagUri(k, v));
    }));
    tags.getOrDefault("kuma.io/service", List.of()).stream().sorted().distinct()
        .forEach(v -> sans.add(Names.tagUri("kuma.io/service", v)));
    req.setCsrPem(Csr.csrPem(key, sans));
    SignResponse resp = CertificateAuthorityGrpc.newBlockingStub(upstreams.ca())
        .withCallCredentials(upstreams.credentials())
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .sign(req.build());
    String chain = resp.getLeafPem() + (resp.getChainPem().isEmpty() ? "" : ensureNewline(resp.getLeafPem()) + resp.getChainPem());
    Instant notBefore = resp.getNotBeforeUnix() == 0 ? Instant.now() : Instant.ofEpochSecond(resp.getNotBeforeUnix());
    return new Issued(new SecretTranslator.Identity(chain, Csr.privateKeyPem(key.getPrivate()), resp.getTrustBundlePem()),
        notBefore, Instant.ofEpochSecond(resp.getNotAfterUnix()));
  }

  private static String ensureNewline(String pem) {
    return pem.endsWith("\n") ? "" : "\n";
  }
}
