package io.trellis.gateway.config;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.SimpleKeyManagerFactory;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Builds Netty {@link SslContext}s from SDS material: BoringSSL (netty-tcnative) when its native library
 * loads, the JDK provider otherwise ({@code -Dtrellis.tls.provider=jdk} forces it).
 */
public final class TlsContexts {
  private TlsContexts() {}

  private static final SslProvider PROVIDER =
      !"jdk".equalsIgnoreCase(System.getProperty("trellis.tls.provider", "")) && OpenSsl.isAvailable()
          ? SslProvider.OPENSSL : SslProvider.JDK;

  /** The TLS implementation in use, for the startup log and /config_dump. */
  public static SslProvider provider() {
    return PROVIDER;
  }

  /** A private key and its certificate chain, leaf first. */
  public record KeyCert(PrivateKey key, List<X509Certificate> chain) {}

  /**
   * A server context. With an RSA and an ECDSA certificate both are offered; the key manager picks the one
   * matching the key type the TLS stack asks for (derived from the client's signature algorithms).
   */
  public static SslContext server(List<KeyCert> certs, List<X509Certificate> clientCa, boolean alpnHttp,
      List<String> protocols) {
    try {
      KeyManagerFactory kmf = new InMemoryKeyManager(certs).factory();
      if (PROVIDER == SslProvider.OPENSSL) {
        // Converts each key to BoringSSL's form once, not per handshake.
        kmf = new OpenSslCachingX509KeyManagerFactory(kmf);
      }
      SslContextBuilder b = SslContextBuilder.forServer(kmf).sslProvider(PROVIDER)
          .protocols(protocols);
      if (clientCa != null) {
        b.trustManager(new SanCheckingTrustManager(pkix(clientCa), null)).clientAuth(ClientAuth.REQUIRE);
      }
      if (alpnHttp) {
        b.ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
            .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
      }
      return b.build();
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("tls_certificates: " + e.getMessage() + " (expected: usable key and certificate)");
    }
  }

  /**
   * A client context for upstream mTLS: presents {@code cert} (may be null), trusts {@code ca} and, after
   * the chain checks out, requires a URI SAN accepted by {@code sanMatch} (null = any). Fails closed: an
   * empty trust bundle rejects every server.
   */
  public static SslContext client(KeyCert cert, List<X509Certificate> ca, Predicate<String> sanMatch) {
    try {
      SslContextBuilder b = SslContextBuilder.forClient().sslProvider(PROVIDER)
          .protocols("TLSv1.3", "TLSv1.2")
          .trustManager(new SanCheckingTrustManager(pkix(ca), sanMatch));
      if (cert != null) {
        b.keyManager(cert.key(), cert.chain().toArray(new X509Certificate[0]));
      }
      return b.build();
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("upstream tls: " + e.getMessage());
    }
  }

  private static X509ExtendedTrustManager pkix(List<X509Certificate> ca) throws GeneralSecurityException, java.io.IOException {
    if (ca == null || ca.isEmpty()) {
      throw new IllegalArgumentException("validation_context.trusted_ca: empty (expected: at least one CA certificate)");
    }
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    int i = 0;
    for (X509Certificate c : ca) {
      ts.setCertificateEntry("ca" + i++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ts);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X509 trust manager");
  }

  /** URI SANs of a certificate (SPIFFE IDs and kuma:// tags). */
  public static List<String> uriSans(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (Integer.valueOf(6).equals(san.get(0))) {
            out.add((String) san.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // unreadable SANs = no identity
    }
    return out;
  }

  /** PKIX validation, then an identity check on the leaf's URI SANs. */
  static final class SanCheckingTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final Predicate<String> sanMatch;

    SanCheckingTrustManager(X509ExtendedTrustManager delegate, Predicate<String> sanMatch) {
      this.delegate = delegate;
      this.sanMatch = sanMatch;
    }

    private void checkSan(X509Certificate[] chain) throws CertificateException {
      if (sanMatch == null) {
        return;
      }
      for (String san : uriSans(chain[0])) {
        if (sanMatch.test(san)) {
          return;
        }
      }
      throw new CertificateException("peer URI SANs " + uriSans(chain[0]) + " do not match the expected identity");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      delegate.checkClientTrusted(chain, authType, socket);
      checkSan(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
      checkSan(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      delegate.checkClientTrusted(chain, authType, engine);
      checkSan(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      delegate.checkServerTrusted(chain, authType, engine);
      checkSan(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      delegate.checkClientTrusted(chain, authType);
      checkSan(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
      checkSan(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }


  /**
   * Serves keys held in memory. The JDK's {@code NewSunX509} over a PKCS#12 store decrypts the key entry
   * (PBKDF2, 10 000 HMAC rounds) on every handshake, which made TLS termination collapse under load; the key
   * material here never changes for the lifetime of the context, so it is looked up, not re-derived.
   */
  static final class InMemoryKeyManager extends X509ExtendedKeyManager {
    private final List<String> aliases = new ArrayList<>();
    private final java.util.Map<String, KeyCert> byAlias = new java.util.HashMap<>();

    InMemoryKeyManager(List<KeyCert> certs) {
      for (int i = 0; i < certs.size(); i++) {
        String alias = "k" + i;
        aliases.add(alias);
        byAlias.put(alias, certs.get(i));
      }
    }

    KeyManagerFactory factory() {
      InMemoryKeyManager km = this;
      return new SimpleKeyManagerFactory() {
        @Override
        protected void engineInit(KeyStore keyStore, char[] password) {}

        @Override
        protected void engineInit(javax.net.ssl.ManagerFactoryParameters params) {}

        @Override
        protected javax.net.ssl.KeyManager[] engineGetKeyManagers() {
          return new javax.net.ssl.KeyManager[] {km};
        }
      };
    }

    /**
     * JDK and BoringSSL ask by key type: "EC" (ECDSA schemes, ECDHE_ECDSA suites), "RSA" (rsa_pkcs1/rsa_pss_rsae,
     * ECDHE_RSA); Netty's OpenSSL glue may also ask "EC_EC". PSS-only keys ("RSASSA-PSS") are never held.
     */
    private String choose(String keyType) {
      return choose(keyType, null);
    }

    /**
     * {@code peerSigAlgs}: the client's signature_algorithms when the TLS stack exposes them (BoringSSL asks by
     * cipher-suite key type, so without this an RSA-only client would be offered the ECDSA certificate).
     */
    private String choose(String keyType, String[] peerSigAlgs) {
      String alg = switch (keyType) {
        case "EC", "EC_EC" -> "EC";
        case "RSA" -> "RSA";
        default -> null;
      };
      if (alg == null || !peerAccepts(alg, peerSigAlgs)) {
        return null;
      }
      for (String a : aliases) {
        String k = byAlias.get(a).key().getAlgorithm();
        if (k.equals(alg) || ("EC".equals(alg) && k.equals("ECDSA"))) {
          return a;
        }
      }
      return null;
    }

    private static boolean peerAccepts(String alg, String[] peerSigAlgs) {
      if (peerSigAlgs == null || peerSigAlgs.length == 0) {
        return true;
      }
      for (String s : peerSigAlgs) {
        String u = s.toUpperCase(java.util.Locale.ROOT);
        if ("EC".equals(alg) ? u.contains("ECDSA") : u.contains("RSA")) {
          return true;
        }
      }
      return false;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, java.security.Principal[] issuers, SSLEngine engine) {
      String[] peer = null;
      if (engine != null && engine.getHandshakeSession() instanceof javax.net.ssl.ExtendedSSLSession s) {
        peer = s.getPeerSupportedSignatureAlgorithms();
      }
      return choose(keyType, peer);
    }

    @Override
    public String chooseServerAlias(String keyType, java.security.Principal[] issuers, Socket socket) {
      return choose(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
      String a = choose(keyType);
      return a == null ? null : new String[] {a};
    }

    @Override
    public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
      return getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, java.security.Principal[] issuers, Socket socket) {
      for (String t : keyTypes) {
        String a = choose(t);
        if (a != null) {
          return a;
        }
      }
      return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, java.security.Principal[] issuers, SSLEngine engine) {
      return chooseClientAlias(keyTypes, issuers, null);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      KeyCert kc = byAlias.get(alias);
      return kc == null ? null : kc.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      KeyCert kc = byAlias.get(alias);
      return kc == null ? null : kc.key();
    }
  }
}
