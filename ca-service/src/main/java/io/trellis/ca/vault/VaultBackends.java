package io.trellis.ca.vault;

import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.auth.VaultCachingTokenProvider;
import io.quarkus.vault.client.auth.VaultKubernetesAuthOptions;
import io.quarkus.vault.client.http.jdk.JDKVaultHttpClient;
import io.trellis.api.model.MeshSpec;
import io.trellis.ca.CaMetrics;
import io.trellis.ca.backend.BackendConfigException;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.DataSources;
import io.trellis.ca.backend.VaultBackendFactory;
import io.trellis.ca.pki.Pem;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * Creates Vault PKI backends from a Mesh's {@code conf.fromCp}. Each backend gets its own
 * quarkus-vault {@link VaultClient}: the extension's CDI-configured client serves one Vault fixed at
 * build/start time, while meshes bring their own address, mount, role, auth and TLS at runtime.
 * The client's JDK transport is built here so the TLS trust (the configured CA only) and the client
 * certificate are ours to control.
 */
public final class VaultBackends implements VaultBackendFactory {
  private final Duration timeout;
  private final CaMetrics metrics;

  public VaultBackends(Duration timeout, CaMetrics metrics) {
    this.timeout = timeout;
    this.metrics = metrics;
  }

  @Override
  public CaBackend create(String mesh, String backend, MeshSpec.VaultConf conf, DataSources sources) throws IOException {
    if (conf == null || conf.fromCp() == null) {
      throw new BackendConfigException("conf.fromCp: missing (expected: address, pki, role, auth)");
    }
    MeshSpec.FromCp cp = conf.fromCp();
    URI address = address(cp.address());
    String mount = require("conf.fromCp.pki", cp.pki());
    String role = require("conf.fromCp.role", cp.role());
    if (!mount.matches("[A-Za-z0-9._/-]+") || mount.contains("..") || !role.matches("[A-Za-z0-9._-]+")) {
      throw new BackendConfigException("conf.fromCp.pki/role: \"" + mount + "\"/\"" + role
          + "\" (expected: a Vault mount path and role name)");
    }
    MeshSpec.VaultTls tls = cp.tls();
    if (tls != null && Boolean.TRUE.equals(tls.skipVerify())) {
      // fail closed: a CA backend whose server is not authenticated could be anyone's CA
      throw new BackendConfigException("conf.fromCp.tls.skipVerify: true is not supported (expected: tls.caCert)");
    }
    if (address.getScheme().equals("http") && !isLoopback(address)) {
      throw new BackendConfigException("conf.fromCp.address: " + address + " (expected: https, or http on loopback only)");
    }
    MeshSpec.VaultAuth auth = cp.auth();
    if (auth == null) {
      throw new BackendConfigException("conf.fromCp.auth: missing (expected: token, tls or kubernetes)");
    }
    SSLContext ssl = sslContext(mesh, tls, auth, sources);
    HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(timeout).sslContext(ssl);
    if (tls != null && tls.serverName() != null && !tls.serverName().isEmpty()) {
      SSLParameters params = ssl.getDefaultSSLParameters();
      params.setServerNames(List.of(new javax.net.ssl.SNIHostName(tls.serverName())));
      http.sslParameters(params);
    }
    HttpClient httpClient = http.build();
    VaultClient.Builder client = VaultClient.builder()
        .baseUrl(address.toString())
        .executor(new JDKVaultHttpClient(httpClient))
        .requestTimeout(timeout)
        .maxRetries(0);
    if (cp.namespace() != null && !cp.namespace().isEmpty()) {
      client.namespace(cp.namespace());
    }
    int methods = (auth.token() != null ? 1 : 0) + (auth.tls() != null ? 1 : 0) + (auth.kubernetes() != null ? 1 : 0);
    if (methods != 1) {
      throw new BackendConfigException("conf.fromCp.auth: " + methods + " methods set (expected: exactly one of token, tls, kubernetes)");
    }
    if (auth.token() != null) {
      String token = new String(sources.read(mesh, "conf.fromCp.auth.token", auth.token()), StandardCharsets.UTF_8).trim();
      if (token.isEmpty()) {
        throw new BackendConfigException("conf.fromCp.auth.token: empty");
      }
      client.clientToken(token);
    } else if (auth.kubernetes() != null) {
      MeshSpec.VaultKubernetesAuth k = auth.kubernetes();
      String saPath = k.serviceAccountTokenPath() == null || k.serviceAccountTokenPath().isEmpty()
          ? "/var/run/secrets/kubernetes.io/serviceaccount/token" : k.serviceAccountTokenPath();
      client.kubernetes(VaultKubernetesAuthOptions.builder()
          .role(require("conf.fromCp.auth.kubernetes.vaultRole", k.vaultRole()))
          .jwtTokenPath(Path.of(saPath)).build());
    } else {
      client.tokenProvider(new VaultCachingTokenProvider(new VaultCertLogin(httpClient, address, timeout),
          VaultCachingTokenProvider.DEFAULT_RENEW_GRACE_PERIOD));
    }
    VaultCaBackend created = new VaultCaBackend(backend, client.build(), httpClient, address, mount, role,
        cp.commonName(), timeout);
    created.refreshChain();
    return created;
  }

  private static SSLContext sslContext(String mesh, MeshSpec.VaultTls tls, MeshSpec.VaultAuth auth, DataSources sources)
      throws IOException {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (tls != null && tls.caCert() != null) {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate c : Pem.readCertificates(Pem.utf8(sources.read(mesh, "conf.fromCp.tls.caCert", tls.caCert())))) {
          trust.setCertificateEntry("ca-" + i++, c);
        }
        tmf.init(trust);
      } else {
        tmf.init((KeyStore) null); // the JVM's public CAs
      }
      KeyManagerFactory kmf = null;
      var certDs = auth != null && auth.tls() != null ? auth.tls().clientCert() : tls == null ? null : tls.clientCert();
      var keyDs = auth != null && auth.tls() != null ? auth.tls().clientKey() : tls == null ? null : tls.clientKey();
      if (certDs != null || keyDs != null) {
        List<X509Certificate> chain = Pem.readCertificates(Pem.utf8(sources.read(mesh, "conf.fromCp.auth.tls.clientCert", certDs)));
        PrivateKey key = Pem.readPrivateKey(Pem.utf8(sources.read(mesh, "conf.fromCp.auth.tls.clientKey", keyDs)));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("client", key, new char[0], chain.toArray(X509Certificate[]::new));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new BackendConfigException("conf.fromCp.tls: " + e.getMessage());
    } catch (IOException e) {
      throw new BackendConfigException(e.getMessage());
    }
  }

  private static URI address(String text) throws BackendConfigException {
    try {
      URI u = URI.create(require("conf.fromCp.address", text));
      if (u.getHost() == null || !(u.getScheme().equals("https") || u.getScheme().equals("http"))) {
        throw new IllegalArgumentException();
      }
      return u;
    } catch (IllegalArgumentException e) {
      throw new BackendConfigException("conf.fromCp.address: \"" + text + "\" (expected: https://host:port)");
    }
  }

  private static boolean isLoopback(URI u) {
    return u.getHost().equals("127.0.0.1") || u.getHost().equals("localhost") || u.getHost().equals("[::1]");
  }

  private static String require(String field, String value) throws BackendConfigException {
    if (value == null || value.isBlank()) {
      throw new BackendConfigException(field + ": missing");
    }
    return value;
  }

  CaMetrics metrics() {
    return metrics;
  }
}
