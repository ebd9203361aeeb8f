package io.trellis.ca.kubernetes;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.trellis.api.model.MeshSpec;
import io.trellis.ca.backend.BuiltinRootStore;
import io.trellis.ca.pki.BuiltinCa;
import io.trellis.ca.pki.CaMaterial;
import io.trellis.ca.pki.Crypto;
import io.trellis.ca.pki.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Builtin roots as Kubernetes Secrets of type {@code kubernetes.io/tls} in the control-plane
 * namespace, one per mesh and backend. Creation is create-if-absent: the API server's 409 on a
 * concurrent create tells the loser to read the winner's root, so replicas racing on first use end
 * with one root. An existing Secret is never overwritten, whatever its state: a Secret that does not
 * hold a usable root of this mesh and backend is an error (fail closed), fixed by an operator.
 */
public final class KubernetesRootStore implements BuiltinRootStore {
  private static final Logger LOG = Logger.getLogger(KubernetesRootStore.class);
  public static final String TYPE = "kubernetes.io/tls";
  public static final String MESH_ANNOTATION = "trellis.io/mesh";
  public static final String BACKEND_ANNOTATION = "trellis.io/ca-backend";
  public static final String COMPONENT_LABEL = "app.kubernetes.io/component";
  public static final String COMPONENT = "ca-builtin-root";
  // RFC 1123 subdomain, what a Secret name must be
  private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final int ATTEMPTS = 3;

  private final KubernetesClient client;
  private final String namespace;

  public KubernetesRootStore(KubernetesClient client, String namespace) {
    this.client = requireNonNull(client, "client");
    this.namespace = requireNonNull(namespace, "namespace");
  }

  /**
   * Kuma's naming ({@code <mesh>.ca-builtin-cert-<backend>}) when that is a valid Secret name,
   * otherwise (names with '_', too long) a name derived from a hash of both. The annotations are
   * checked on read, so two meshes whose names collide here can never share a root.
   */
  public static String secretName(String mesh, String backend) {
    String readable = mesh + ".ca-builtin-cert-" + backend;
    if (readable.length() <= 253 && SUBDOMAIN.matcher(readable).matches()) {
      return readable;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((mesh + "\0" + backend).getBytes(StandardCharsets.UTF_8));
      return "trellis-ca-builtin-" + HexFormat.of().formatHex(h, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public CaMaterial loadOrCreate(String mesh, String backend, MeshSpec.CaCert caCert) throws IOException {
    String name = secretName(mesh, backend);
    // a root deleted between our 409 and our read sends us round again; more than that is not a race
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Secret existing = get(name);
      if (existing != null) {
        return parse(existing, mesh, backend);
      }
      CaMaterial fresh = BuiltinCa.create(mesh, caCert);
      try {
        client.secrets().inNamespace(namespace).resource(secret(name, mesh, backend, fresh)).create();
        LOG.infof("mesh %s: builtin root of backend %s created in Secret %s/%s", mesh, backend, namespace, name);
        return fresh;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw new IOException("Secret " + namespace + "/" + name + ": create failed (" + describe(e) + ")", e);
        }
        LOG.debugf("Secret %s/%s created concurrently; reading the winner's root", namespace, name);
      }
    }
    throw new IOException("Secret " + namespace + "/" + name + ": created and deleted concurrently " + ATTEMPTS + " times");
  }

  private Secret get(String name) throws IOException {
    try {
      return client.secrets().inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      throw new IOException("Secret " + namespace + "/" + name + ": read failed (" + describe(e) + ")", e);
    }
  }

  Secret secret(String name, String mesh, String backend, CaMaterial ca) {
    Base64.Encoder b64 = Base64.getEncoder();
    return new SecretBuilder()
        .withNewMetadata()
          .withName(name)
          .withNamespace(namespace)
          .withLabels(Map.of(COMPONENT_LABEL, COMPONENT, "app.kubernetes.io/managed-by", "trellis-ca-service"))
          .withAnnotations(Map.of(MESH_ANNOTATION, mesh, BACKEND_ANNOTATION, backend))
        .endMetadata()
        .withType(TYPE)
        // the API server refuses any later change of data: a root can only be deleted, never swapped
        .withImmutable(true)
        .withData(Map.of(
            "tls.crt", b64.encodeToString(Pem.certificate(ca.cert()).getBytes(StandardCharsets.US_ASCII)),
            "tls.key", b64.encodeToString(Pem.privateKey(ca.key()).getBytes(StandardCharsets.US_ASCII))))
        .build();
  }

  private CaMaterial parse(Secret s, String mesh, String backend) throws IOException {
    String where = "Secret " + namespace + "/" + s.getMetadata().getName();
    Map<String, String> annotations = s.getMetadata().getAnnotations() == null ? Map.of() : s.getMetadata().getAnnotations();
    if (!mesh.equals(annotations.get(MESH_ANNOTATION)) || !backend.equals(annotations.get(BACKEND_ANNOTATION))) {
      throw new IOException(where + ": annotations " + MESH_ANNOTATION + "=" + annotations.get(MESH_ANNOTATION) + ", "
          + BACKEND_ANNOTATION + "=" + annotations.get(BACKEND_ANNOTATION) + " (expected: " + mesh + ", " + backend + ")");
    }
    Map<String, String> data = s.getData() == null ? Map.of() : s.getData();
    String crt = decode(where, data, "tls.crt");
    String key = decode(where, data, "tls.key");
    List<X509Certificate> certs;
    PrivateKey privateKey;
    try {
      certs = Pem.readCertificates(crt);
      privateKey = Pem.readPrivateKey(key);
    } catch (IOException e) {
      throw new IOException(where + ": " + e.getMessage(), e);
    }
    if (!Crypto.keysMatch(certs.get(0).getPublicKey(), privateKey)) {
      throw new IOException(where + ": tls.key does not match tls.crt");
    }
    return new CaMaterial(certs.get(0), privateKey, List.of());
  }

  private static String decode(String where, Map<String, String> data, String key) throws IOException {
    String v = data.get(key);
    if (v == null || v.isEmpty()) {
      throw new IOException(where + ": data." + key + " missing (expected: PEM, base64-encoded)");
    }
    try {
      return new String(Base64.getMimeDecoder().decode(v), StandardCharsets.US_ASCII);
    } catch (IllegalArgumentException e) {
      throw new IOException(where + ": data." + key + " is not base64");
    }
  }

  static String describe(KubernetesClientException e) {
    return e.getCode() > 0 ? "HTTP " + e.getCode() + (e.getStatus() != null && e.getStatus().getMessage() != null
        ? ": " + e.getStatus().getMessage() : "") : String.valueOf(e.getMessage());
  }
}
