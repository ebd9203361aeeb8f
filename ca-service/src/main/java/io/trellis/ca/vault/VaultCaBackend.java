package io.trellis.ca.vault;

import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.VaultClientException;
import io.quarkus.vault.client.api.secrets.pki.VaultSecretsPKIFormat;
import io.quarkus.vault.client.api.secrets.pki.VaultSecretsPKISignParams;
import io.quarkus.vault.client.api.secrets.pki.VaultSecretsPKISignResultData;
import io.trellis.ca.Identity;
import io.trellis.ca.SignRefused;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.pki.CsrCheck.CheckedCsr;
import io.trellis.ca.pki.Pem;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Vault PKI: leaves are signed by {@code POST /v1/<mount>/sign/<role>}; the trust anchor comes from
 * {@code GET /v1/<mount>/ca_chain} (or {@code /v1/<mount>/ca/pem} when Vault has no chain). Every
 * failure is UNAVAILABLE: ca-service never substitutes a certificate of another backend.
 */
final class VaultCaBackend implements CaBackend {
  private final String name;
  private final VaultClient client;
  private final HttpClient http;
  private final URI address;
  private final String mount;
  private final String role;
  private final String commonName;
  private final Duration timeout;
  private volatile List<X509Certificate> chain = List.of();

  VaultCaBackend(String name, VaultClient client, HttpClient http, URI address, String mount, String role,
      String commonName, Duration timeout) {
    this.name = name;
    this.client = client;
    this.http = http;
    this.address = address;
    this.mount = mount;
    this.role = role;
    this.commonName = commonName;
    this.timeout = timeout;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String type() {
    return "vault";
  }

  /** Reads Vault's CA chain (unauthenticated endpoints); fails when Vault is unreachable or has no CA. */
  void refreshChain() throws IOException {
    String pem = get("/v1/" + mount + "/ca_chain");
    if (pem == null || !pem.contains("BEGIN CERTIFICATE")) {
      pem = get("/v1/" + mount + "/ca/pem");
    }
    if (pem == null || !pem.contains("BEGIN CERTIFICATE")) {
      throw new IOException("vault " + address + ": mount \"" + mount + "\" has no CA certificate");
    }
    chain = Pem.readCertificates(pem);
  }

  private String get(String path) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(address.resolve(path)).timeout(timeout).GET().build();
    try {
      HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (r.statusCode() == 200) {
        return r.body();
      }
      if (r.statusCode() == 204 || r.statusCode() == 404) {
        return null;
      }
      throw new IOException("vault " + address + path + ": HTTP " + r.statusCode() + " " + r.body().strip());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } catch (javax.net.ssl.SSLException e) {
      throw new IOException("vault " + address + ": TLS failed (" + e.getMessage() + ")");
    } catch (java.net.http.HttpTimeoutException e) {
      throw new IOException("vault " + address + path + ": timed out after " + timeout);
    } catch (java.net.ConnectException e) {
      throw new IOException("vault " + address + ": connection refused");
    }
  }

  @Override
  public List<X509Certificate> trustAnchors() {
    List<X509Certificate> c = chain;
    return c.isEmpty() ? List.of() : List.of(c.get(c.size() - 1));
  }

  @Override
  public Issued issue(Identity identity, CheckedCsr csr, Duration lifetime) throws SignRefused {
    VaultSecretsPKISignParams params = new VaultSecretsPKISignParams()
        .setCsr(csr.csrPem().strip())
        .setCommonName(commonName(identity))
        .setUriSans(new ArrayList<>(identity.uris()))
        .setTtl(lifetime)
        .setFormat(VaultSecretsPKIFormat.PEM);
    VaultSecretsPKISignResultData data;
    try {
      data = client.secrets().pki(mount).sign(role, params).toCompletableFuture().get(timeout.toMillis() + 1000,
          TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw SignRefused.unavailable("backend_error", "vault backend \"" + name + "\": timed out after " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw SignRefused.unavailable("backend_error", "vault backend \"" + name + "\": interrupted");
    } catch (ExecutionException e) {
      throw SignRefused.unavailable("backend_error", "vault backend \"" + name + "\": " + describe(e.getCause()));
    } catch (RuntimeException e) {
      throw SignRefused.unavailable("backend_error", "vault backend \"" + name + "\": " + describe(e));
    }
    if (data == null || data.getCertificate() == null) {
      throw SignRefused.unavailable("backend_error", "vault backend \"" + name + "\": no certificate in the response");
    }
    try {
      X509Certificate leaf = Pem.readCertificates(data.getCertificate()).get(0);
      List<X509Certificate> returned = new ArrayList<>();
      if (data.getCaChain() != null) {
        for (String c : data.getCaChain()) {
          returned.addAll(Pem.readCertificates(c));
        }
      } else if (data.getIssuingCa() != null) {
        returned.addAll(Pem.readCertificates(data.getIssuingCa()));
      }
      List<X509Certificate> anchors = trustAnchors();
      returned.removeIf(anchors::contains); // proxies get the root from the bundle, not the chain
      return new Issued(Pem.certificate(leaf), Pem.certificates(returned),
          leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
    } catch (IOException e) {
      throw SignRefused.unavailable("backend_error", "vault backend \"" + name + "\": unreadable certificate (" + e.getMessage() + ")");
    }
  }

  private String commonName(Identity identity) {
    // Vault roles usually require a CN; Kuma's default is the service name.
    String template = commonName == null || commonName.isEmpty() ? "{{ tag \"kuma.io/service\" }}" : commonName;
    return template.replace("{{ tag \"kuma.io/service\" }}", identity.services().get(0))
        .replace("{{tag \"kuma.io/service\"}}", identity.services().get(0));
  }

  private static String describe(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && !(c instanceof VaultClientException)) {
      c = c.getCause();
    }
    if (c instanceof VaultClientException v) {
      return "HTTP " + v.getStatus() + " " + (v.getErrors() == null ? "" : v.getErrors());
    }
    return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
  }

  @Override
  public void close() {
    // Java 17's HttpClient has no close(); its threads end when it is unreachable
  }
}
