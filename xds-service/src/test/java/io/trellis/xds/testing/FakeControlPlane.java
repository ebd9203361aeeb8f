package io.trellis.xds.testing;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.auth.ServiceTokens;
import io.trellis.api.ca.v1.CertificateAuthorityGrpc;
import io.trellis.api.ca.v1.DataplaneTokensGrpc;
import io.trellis.api.ca.v1.SignRequest;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.ca.v1.TrustBundleRequest;
import io.trellis.api.ca.v1.VerificationKey;
import io.trellis.api.ca.v1.VerificationKeys;
import io.trellis.api.ca.v1.VerificationKeysRequest;
import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ProxyRef;
import io.trellis.api.policy.v1.ProxyView;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import io.trellis.xds.identity.Csr;

/**
 * In-process fakes of policy-service (WatchProxy) and ca-service (Sign, WatchTrustBundle,
 * WatchVerificationKeys) behind one real gRPC server on a random port, speaking the api/ contracts and
 * requiring the local service token like the real services. The CA is real: it checks the CSR's SANs
 * against the identity asked for and signs with its own EC root.
 */
public final class FakeControlPlane implements AutoCloseable {
  public final KeyPair rootKey = Csr.generateKey();
  public final X509Certificate root;
  public final String rootPem;
  private final KeyPair tokenKey = Csr.generateKey();
  private volatile Server server;
  private final int port;
  private final io.grpc.ServerInterceptor auth;
  /** Sent first on a WatchProxy stream opened after {@link #restart}: what a restarted, not yet synced dependency may say. */
  public final AtomicReference<java.util.function.Function<ProxyView, ProxyView>> firstAfterRestart = new AtomicReference<>();
  private volatile boolean restarted;
  private final Map<String, ProxyView> views = new ConcurrentHashMap<>();
  private final Map<String, List<StreamObserver<ProxyView>>> viewWatchers = new ConcurrentHashMap<>();
  private final List<StreamObserver<VerificationKeys>> keyWatchers = new CopyOnWriteArrayList<>();
  private final Set<String> revoked = new TreeSet<>();
  public final AtomicInteger signCalls = new AtomicInteger();
  public final AtomicReference<Duration> certLifetime = new AtomicReference<>(Duration.ofHours(24));
  public final AtomicReference<Status> signFailure = new AtomicReference<>();

  public FakeControlPlane(Path dataDir) throws Exception {
    String token = ServiceTokens.loadOrCreate(dataDir);
    root = selfSigned();
    rootPem = Csr.pem(root);
    auth = BearerAuth.interceptor(t -> ServiceTokens.matches(token, t) ? "local-service" : null);
    server = build(0).start();
    port = server.getPort();
  }

  private Server build(int port) {
    return Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(new Policy(), auth))
        .addService(ServerInterceptors.intercept(new Ca(), auth))
        .addService(ServerInterceptors.intercept(new Tokens(), auth))
        .build();
  }

  public int port() {
    return port;
  }

  /** Kills the server: every open stream (WatchProxy, WatchTrustBundle, WatchVerificationKeys) fails at once. */
  public synchronized void kill() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Starts the server again on the same port (after {@link #kill}), as a restarted dependency would. */
  public synchronized void restart() throws Exception {
    restarted = true;
    IOException last = null;
    for (int i = 0; i < 50; i++) {
      try {
        server = build(port).start();
        return;
      } catch (IOException e) {
        last = e; // the port may linger for a moment after shutdown
        Thread.sleep(100);
      }
    }
    throw last;
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  /** Publishes a view to current and future watchers of its Dataplane. */
  public void push(ProxyView view) {
    String key = view.getMesh() + "." + view.getName();
    views.put(key, view);
    viewWatchers.getOrDefault(key, List.of()).forEach(o -> {
      synchronized (o) {
        o.onNext(view);
      }
    });
  }

  /** Number of open WatchProxy streams for a Dataplane. */
  public int watchers(String mesh, String name) {
    return viewWatchers.getOrDefault(mesh + "." + name, List.of()).size();
  }

  public synchronized void revoke(String jti) {
    revoked.add(jti);
    VerificationKeys keys = keys();
    keyWatchers.forEach(o -> {
      synchronized (o) {
        o.onNext(keys);
      }
    });
  }

  /** An ES256 dataplane token for {@code mesh}/{@code name}. */
  public String token(String mesh, String name, String jti) {
    try {
      String header = b64("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}");
      String claims = b64("{\"mesh\":\"" + mesh + "\",\"name\":\"" + name + "\",\"jti\":\"" + jti
          + "\",\"exp\":" + (Instant.now().getEpochSecond() + 3600) + ",\"tags\":{}}");
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initSign(tokenKey.getPrivate());
      s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
      return header + "." + claims + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(s.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private synchronized VerificationKeys keys() {
    return VerificationKeys.newBuilder()
        .addKeys(VerificationKey.newBuilder().setKid("k1").setAlgorithm("ES256").setMesh("")
            .setPublicKeyPem(Csr.pem(tokenKey.getPublic())))
        .addAllRevokedTokenIds(revoked)
        .setVersion(revoked.size() + 1)
        .build();
  }

  private X509Certificate selfSigned() throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=fake mesh CA"), BigInteger.ONE,
        Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(365))), new X500Name("CN=fake mesh CA"),
        rootKey.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    b.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://default")));
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
  }

  /** Signs a leaf for {@code publicKey} with URI SANs; also used by tests to make peer certificates. */
  public X509Certificate issue(java.security.PublicKey publicKey, List<String> sans, Duration lifetime) throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(root, BigInteger.valueOf(System.nanoTime()),
        Date.from(now.minusSeconds(1)), Date.from(now.plus(lifetime)), new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), publicKey);
    b.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(sans.stream()
        .map(s -> new GeneralName(GeneralName.uniformResourceIdentifier, s)).toArray(GeneralName[]::new)));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false, new org.bouncycastle.asn1.x509.ExtendedKeyUsage(new org.bouncycastle.asn1.x509.KeyPurposeId[] {
        org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_serverAuth, org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_clientAuth}));
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
  }

  private final class Policy extends PolicyDiscoveryGrpc.PolicyDiscoveryImplBase {
    @Override
    public void watchProxy(ProxyRef request, StreamObserver<ProxyView> observer) {
      String key = request.getMesh() + "." + request.getName();
      List<StreamObserver<ProxyView>> list = viewWatchers.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
      list.add(observer);
      ((ServerCallStreamObserver<ProxyView>) observer).setOnCancelHandler(() -> list.remove(observer));
      ProxyView current = views.get(key);
      var first = firstAfterRestart.get();
      if (current != null && restarted && first != null) {
        synchronized (observer) {
          observer.onNext(first.apply(current));
        }
      }
      if (current != null) {
        synchronized (observer) {
          observer.onNext(current);
        }
      }
    }
  }

  private final class Ca extends CertificateAuthorityGrpc.CertificateAuthorityImplBase {
    @Override
    public void sign(SignRequest request, StreamObserver<SignResponse> observer) {
      signCalls.incrementAndGet();
      Status failure = signFailure.get();
      if (failure != null) {
        observer.onError(failure.asRuntimeException());
        return;
      }
      try (PEMParser p = new PEMParser(new java.io.StringReader(request.getCsrPem()))) {
        JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest((PKCS10CertificationRequest) p.readObject());
        List<String> expected = new ArrayList<>();
        request.getTagsList().forEach(t -> {
          if (t.getKey().equals("kuma.io/service")) {
            expected.add("spiffe://" + request.getMesh() + "/" + t.getValue());
          }
          expected.add("kuma://" + t.getKey() + "/" + t.getValue());
        });
        List<String> requested = new ArrayList<>();
        var ext = csr.getRequestedExtensions();
        GeneralNames names = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
        for (GeneralName n : names.getNames()) {
          requested.add(n.getName().toString());
        }
        if (!new TreeSet<>(expected).equals(new TreeSet<>(requested))) {
          observer.onError(Status.PERMISSION_DENIED.withDescription("csr_pem: SANs " + requested + " (expected: " + expected + ")").asRuntimeException());
          return;
        }
        Duration life = certLifetime.get();
        X509Certificate leaf = issue(csr.getPublicKey(), requested, life);
        observer.onNext(SignResponse.newBuilder()
            .setLeafPem(Csr.pem(leaf))
            .setTrustBundlePem(rootPem)
            .setNotBeforeUnix(leaf.getNotBefore().toInstant().getEpochSecond())
            .setNotAfterUnix(leaf.getNotAfter().toInstant().getEpochSecond())
            .setBackend("ca-1")
            .build());
        observer.onCompleted();
      } catch (Exception e) {
        observer.onError(Status.INVALID_ARGUMENT.withDescription("csr_pem: " + e.getMessage()).asRuntimeException());
      }
    }

    @Override
    public void watchTrustBundle(TrustBundleRequest request, StreamObserver<TrustBundle> observer) {
      observer.onNext(TrustBundle.newBuilder().setMesh(request.getMesh()).setRootsPem(rootPem).addBackends("ca-1")
          .setEnabledBackend("ca-1").setVersion(1).build());
    }
  }

  private final class Tokens extends DataplaneTokensGrpc.DataplaneTokensImplBase {
    @Override
    public void watchVerificationKeys(VerificationKeysRequest request, StreamObserver<VerificationKeys> observer) {
      keyWatchers.add(observer);
      ((ServerCallStreamObserver<VerificationKeys>) observer).setOnCancelHandler(() -> keyWatchers.remove(observer));
      synchronized (observer) {
        observer.onNext(keys());
      }
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

}
