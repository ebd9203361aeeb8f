package io.trellis.ca.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import io.trellis.ca.testing.TestCas;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A strict HTTPS fake of the Vault API subset ca-service uses, shaped after Vault's documentation:
 * {@code POST /v1/auth/kubernetes/login}, {@code POST /v1/auth/cert/login},
 * {@code POST /v1/<mount>/sign/<role>}, {@code GET /v1/<mount>/ca/pem}, {@code GET /v1/<mount>/ca_chain}.
 * Errors are Vault-shaped ({@code {"errors":[…]}}); anything not documented (unknown path, method,
 * body field, missing token) is refused, so drift in our calls fails the tests.
 */
public final class FakeVault implements AutoCloseable {
  // POST /pki/sign/:name parameters (Vault PKI API docs)
  static final Set<String> SIGN_PARAMS = Set.of("csr", "common_name", "alt_names", "other_sans", "ip_sans", "uri_sans",
      "ttl", "format", "exclude_cn_from_sans", "not_after", "remove_roots_from_chain", "user_ids", "issuer_ref",
      "private_key_format", "not_before_duration", "signature_bits", "use_pss");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SIGN = Pattern.compile("/v1/([A-Za-z0-9._/-]+)/sign/([A-Za-z0-9._-]+)");

  public final TestCas.Ca serverCa = TestCas.root("Fake Vault TLS CA");
  public final TestCas.Ca pkiRoot = TestCas.root("Vault PKI Root");
  public final TestCas.Ca pkiIssuer = TestCas.intermediate("Vault PKI Issuer", pkiRoot);
  public final String mount;
  public final String role;
  public volatile String token = "s.good-token";
  public volatile String kubernetesRole = "trellis-ca";
  public volatile String kubernetesJwt = "eyJhbGciOiJSUzI1NiJ9.sa-token.sig";
  public volatile int failWith; // HTTP status to answer every call with (e.g. 500, 503), 0 = normal
  public volatile Duration delay = Duration.ZERO;
  public final List<JsonNode> signBodies = new CopyOnWriteArrayList<>();
  public final List<String> errors = new CopyOnWriteArrayList<>();
  private final HttpsServer server;

  public FakeVault(String mount, String role, boolean requireClientCert, X509Certificate trustedClientCa) throws Exception {
    this.mount = mount;
    this.role = role;
    KeyPair serverKeys = Crypto.ecKeyPair("secp256r1");
    X509Certificate serverCert = serverCert(serverKeys);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", serverKeys.getPrivate(), new char[0], new X509Certificate[] {serverCert, serverCa.cert()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    if (trustedClientCa != null) {
      trust.setCertificateEntry("client-ca", trustedClientCa);
    }
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
      @Override
      public void configure(HttpsParameters params) {
        var p = ctx.getDefaultSSLParameters();
        if (requireClientCert) {
          p.setNeedClientAuth(true);
        }
        params.setSSLParameters(p);
      }
    });
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", this::handle);
    server.start();
  }

  public String address() {
    return "https://127.0.0.1:" + server.getAddress().getPort();
  }

  public String serverCaPem() {
    return Pem.certificate(serverCa.cert());
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      if (!delay.isZero()) {
        Thread.sleep(delay.toMillis());
      }
      if (failWith != 0) {
        reply(ex, failWith, error(failWith >= 500 ? "internal error" : "failure"));
        return;
      }
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (path.equals("/v1/" + mount + "/ca_chain") || path.equals("/v1/" + mount + "/ca/pem")) {
        if (!method.equals("GET")) {
          reply(ex, 405, error("unsupported operation"));
          return;
        }
        String pem = path.endsWith("ca_chain")
            ? Pem.certificate(pkiIssuer.cert()) + Pem.certificate(pkiRoot.cert())
            : Pem.certificate(pkiIssuer.cert());
        byte[] body = pem.getBytes(StandardCharsets.US_ASCII);
        ex.getResponseHeaders().set("Content-Type", "application/pem-certificate-chain");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
        ex.close();
        return;
      }
      if (path.equals("/v1/auth/kubernetes/login")) {
        JsonNode body = postJson(ex, Set.of("role", "jwt"));
        if (body == null) {
          return;
        }
        if (!kubernetesRole.equals(body.path("role").asText()) || !kubernetesJwt.equals(body.path("jwt").asText())) {
          reply(ex, 403, error("permission denied"));
          return;
        }
        reply(ex, 200, login());
        return;
      }
      if (path.equals("/v1/auth/cert/login")) {
        JsonNode body = postJson(ex, Set.of("name"));
        if (body == null) {
          return;
        }
        SSLSession session = ((com.sun.net.httpserver.HttpsExchange) ex).getSSLSession();
        try {
          session.getPeerCertificates();
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
          reply(ex, 400, error("client certificate must be supplied"));
          return;
        }
        reply(ex, 200, login());
        return;
      }
      Matcher m = SIGN.matcher(path);
      if (m.matches()) {
        if (!m.group(1).equals(mount)) {
          reply(ex, 404, error("no handler for route \"" + m.group(1) + "/sign/" + m.group(2) + "\". route entry not found."));
          return;
        }
        if (!token.equals(ex.getRequestHeaders().getFirst("X-Vault-Token"))) {
          reply(ex, 403, error("permission denied"));
          return;
        }
        if (!m.group(2).equals(role)) {
          reply(ex, 400, error("unknown role: " + m.group(2)));
          return;
        }
        JsonNode body = postJson(ex, SIGN_PARAMS);
        if (body == null) {
          return;
        }
        signBodies.add(body);
        reply(ex, 200, sign(body));
        return;
      }
      reply(ex, 404, error("no handler for route \"" + path + "\". route entry not found."));
    } catch (Exception e) {
      errors.add(e.toString());
      reply(ex, 500, error("1 error occurred:\n\t* " + e.getMessage() + "\n\n"));
    }
  }

  private JsonNode postJson(HttpExchange ex, Set<String> allowed) throws IOException {
    if (!ex.getRequestMethod().equals("POST") && !ex.getRequestMethod().equals("PUT")) {
      reply(ex, 405, error("unsupported operation"));
      return null;
    }
    JsonNode body;
    try {
      body = JSON.readTree(ex.getRequestBody());
    } catch (IOException e) {
      reply(ex, 400, error("failed to parse JSON input: " + e.getMessage()));
      return null;
    }
    if (body == null || !body.isObject()) {
      reply(ex, 400, error("failed to parse JSON input"));
      return null;
    }
    List<String> unknown = new ArrayList<>();
    body.fieldNames().forEachRemaining(f -> {
      if (!allowed.contains(f)) {
        unknown.add(f);
      }
    });
    if (!unknown.isEmpty()) {
      // real Vault only warns; the fake refuses so that a typo in our payload cannot go unnoticed
      errors.add("unknown fields " + unknown);
      reply(ex, 400, error("unknown fields: " + unknown));
      return null;
    }
    return body;
  }

  private ObjectNode sign(JsonNode body) throws Exception {
    String csrPem = body.path("csr").asText("");
    Object parsed;
    try (PEMParser p = new PEMParser(new StringReader(csrPem))) {
      parsed = p.readObject();
    }
    if (!(parsed instanceof PKCS10CertificationRequest csr)) {
      throw new IllegalArgumentException("csr: not a CSR");
    }
    List<GeneralName> names = new ArrayList<>();
    JsonNode uris = body.path("uri_sans");
    List<String> uriList = new ArrayList<>();
    if (uris.isTextual()) {
      for (String u : uris.asText().split(",")) {
        uriList.add(u.trim());
      }
    } else if (uris.isArray()) {
      uris.forEach(u -> uriList.add(u.asText()));
    } else if (!uris.isMissingNode()) {
      throw new IllegalArgumentException("uri_sans: expected a string or a list of strings");
    }
    uriList.forEach(u -> names.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
    Duration ttl = ttl(body.path("ttl"));
    Instant now = Instant.now();
    String cn = body.path("common_name").asText("");
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(
        new X500Name(pkiIssuer.cert().getSubjectX500Principal().getName()), BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minusSeconds(30)), Date.from(now.plus(ttl)), new X500Name(cn.isEmpty() ? "" : "CN=" + cn),
        csr.getSubjectPublicKeyInfo());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    if (!names.isEmpty()) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
    }
    X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(b.build(Crypto.signer(pkiIssuer.keys().getPrivate())));
    ObjectNode out = JSON.createObjectNode();
    out.put("request_id", "8a1c").put("lease_id", "").put("renewable", false).put("lease_duration", 0);
    ObjectNode data = out.putObject("data");
    data.put("certificate", Pem.certificate(leaf).strip());
    data.put("issuing_ca", Pem.certificate(pkiIssuer.cert()).strip());
    data.putArray("ca_chain").add(Pem.certificate(pkiIssuer.cert()).strip()).add(Pem.certificate(pkiRoot.cert()).strip());
    data.put("serial_number", "39:dd:2e");
    data.put("expiration", leaf.getNotAfter().toInstant().getEpochSecond());
    out.putNull("wrap_info").putNull("warnings").putNull("auth");
    return out;
  }

  static Duration ttl(JsonNode ttl) {
    if (ttl.isMissingNode() || ttl.isNull()) {
      return Duration.ofDays(30);
    }
    if (ttl.isIntegralNumber()) {
      return Duration.ofSeconds(ttl.asLong());
    }
    Matcher m = Pattern.compile("(\\d+)([smh]?)").matcher(ttl.asText());
    if (!m.matches()) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: seconds or a duration like 24h)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  private ObjectNode login() {
    ObjectNode out = JSON.createObjectNode();
    ObjectNode auth = out.putObject("auth");
    auth.put("client_token", token).put("accessor", "acc").put("lease_duration", 3600).put("renewable", true);
    auth.putArray("policies").add("default");
    return out;
  }

  private static ObjectNode error(String message) {
    ObjectNode o = JSON.createObjectNode();
    o.putArray("errors").add(message);
    return o;
  }

  private static void reply(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private X509Certificate serverCert(KeyPair keys) throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
        new X500Name(serverCa.cert().getSubjectX500Principal().getName()), BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(1))), new X500Name("CN=vault.local"),
        keys.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    return new JcaX509CertificateConverter().getCertificate(b.build(Crypto.signer(serverCa.keys().getPrivate())));
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
