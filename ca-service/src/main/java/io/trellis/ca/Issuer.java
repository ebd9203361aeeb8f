package io.trellis.ca;

import io.trellis.api.ca.v1.SignRequest;
import io.trellis.api.ca.v1.SignResponse;
import io.trellis.api.ca.v1.Tag;
import io.trellis.ca.MeshCaRegistry.MeshState;
import io.trellis.ca.MeshCaRegistry.Slot;
import io.trellis.ca.auth.Caller;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.pki.CsrCheck;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.List;
import java.util.Map;

/** The signing decision: who asks, for which identity, with which CSR, from which backend. */
@ApplicationScoped
public class Issuer {
  @Inject
  CaRuntime runtime;

  @Inject
  CaMetrics metrics;

  public SignResponse sign(Caller caller, SignRequest request) throws SignRefused {
    long start = System.nanoTime();
    try {
      List<Map.Entry<String, String>> tags = request.getTagsList().stream()
          .map(t -> (Map.Entry<String, String>) new AbstractMap.SimpleImmutableEntry<>(t.getKey(), t.getValue()))
          .toList();
      Identity identity = Identity.of(request.getMesh(), tags);
      authorize(caller, identity);
      MeshState mesh = mesh(identity.mesh());
      if (!mesh.mtlsEnabled()) {
        throw SignRefused.invalid("mtls_disabled", "mesh: \"" + mesh.name()
            + "\" has no mTLS enabled (expected: a mesh with mtls.enabledBackend set)");
      }
      CsrCheck.CheckedCsr csr = CsrCheck.check(request.getCsrPem(), identity.uris());
      Slot slot = mesh.slot(mesh.enabledBackend()).orElseThrow(() -> SignRefused.unavailable("backend_missing",
          "mesh \"" + mesh.name() + "\": enabledBackend \"" + mesh.enabledBackend() + "\" is not one of its backends"));
      CaBackend backend = slot.backend();
      if (backend == null) {
        // never a fallback to another backend: proxies must present the enabled backend's identity
        throw SignRefused.unavailable("backend_unavailable", "mesh \"" + mesh.name() + "\": backend \""
            + slot.name() + "\" is not loaded" + (slot.error() == null ? " yet" : ": " + slot.error()));
      }
      Duration lifetime = MeshCaRegistry.lifetime(slot.spec());
      CaBackend.Issued issued;
      try {
        issued = backend.issue(identity, csr, lifetime);
      } catch (SignRefused e) {
        if (e.code() == io.grpc.Status.Code.UNAVAILABLE) {
          metrics.backendError(mesh.name(), slot.name(), backend.type(), e.getMessage());
        }
        throw e;
      }
      metrics.issued(mesh.name(), slot.name(), Duration.ofNanos(System.nanoTime() - start));
      return SignResponse.newBuilder()
          .setLeafPem(issued.leafPem())
          .setChainPem(issued.chainPem())
          .setTrustBundlePem(mesh.bundle() == null ? "" : mesh.bundle().getRootsPem())
          .setNotBeforeUnix(issued.notBefore().getEpochSecond())
          .setNotAfterUnix(issued.notAfter().getEpochSecond())
          .setBackend(slot.name())
          .build();
    } catch (SignRefused e) {
      metrics.refused(request.getMesh(), e.reason());
      throw e;
    }
  }

  /** The mesh, or INVALID_ARGUMENT when unknown (UNAVAILABLE while Meshes are not loaded yet). */
  public MeshState mesh(String name) throws SignRefused {
    MeshCaRegistry registry = runtime.registry();
    if (!registry.synced()) {
      throw SignRefused.unavailable("not_ready", "meshes are not loaded from policy-service yet");
    }
    return registry.mesh(name).orElseThrow(() -> SignRefused.invalid("unknown_mesh",
        "mesh: \"" + name + "\" not found (expected: an existing mesh)"));
  }

  /**
   * Local services may ask for any identity; a dataplane only for its own mesh and tags its token
   * carries. Anything else is refused (fail closed).
   */
  static void authorize(Caller caller, Identity identity) throws SignRefused {
    if (caller == null) {
      throw SignRefused.denied("not_allowed", "caller: not authenticated");
    }
    if (caller.service()) {
      return;
    }
    if (!identity.mesh().equals(caller.mesh())) {
      throw SignRefused.denied("not_allowed", caller.name() + " may not ask for an identity in mesh \"" + identity.mesh() + "\"");
    }
    for (Map.Entry<String, String> t : identity.tags()) {
      List<String> allowed = caller.tags().getOrDefault(t.getKey(), List.of());
      if (!allowed.contains(t.getValue())) {
        throw SignRefused.denied("not_allowed", caller.name() + " may not ask for tag " + t.getKey() + "=" + t.getValue()
            + " (its token allows " + caller.tags() + ")");
      }
    }
  }

  static Tag tag(String k, String v) {
    return Tag.newBuilder().setKey(k).setValue(v).build();
  }
}
