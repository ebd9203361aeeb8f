package io.trellis.ca;

import io.trellis.api.ca.v1.TrustBundle;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.SecretSpec;
import io.trellis.ca.backend.BackendConfigException;
import io.trellis.ca.backend.BackendFactory;
import io.trellis.ca.backend.BuiltinRootStore;
import io.trellis.ca.backend.CaBackend;
import io.trellis.ca.backend.DataSources;
import io.trellis.ca.backend.VaultBackendFactory;
import io.trellis.ca.pki.CaDurations;
import io.trellis.ca.pki.Pem;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The CA state of every mesh, fed by the {@link MeshWatcher}: which backends each mesh has, which
 * one is enabled, each backend loaded (or why not), and the mesh's trust bundle. Backends load on
 * one background thread; transient failures are retried with exponential backoff, configuration
 * errors wait for the Mesh or its Secrets to change.
 */
public final class MeshCaRegistry implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(MeshCaRegistry.class);
  public static final Duration DEFAULT_LEAF_LIFETIME = Duration.ofHours(24);

  /** Observers of backend failures and bundle changes (metrics, streams). */
  public interface Events {
    default void backendError(String mesh, String backend, String type, String error) {}

    default void backendLoaded(String mesh, CaBackend backend) {}
  }

  /** One backend entry of a mesh: its spec and, once loaded, the backend or the last error. */
  public record Slot(MeshSpec.Backend spec, CaBackend backend, String error, boolean permanent, int attempts) {
    public String name() {
      return spec.name();
    }

    boolean settled() {
      return backend != null || permanent;
    }
  }

  /** A mesh as the CA sees it. */
  public record MeshState(String name, String enabledBackend, List<Slot> slots, TrustBundle bundle) {
    public boolean mtlsEnabled() {
      return enabledBackend != null && !enabledBackend.isEmpty();
    }

    public Optional<Slot> slot(String backend) {
      return slots.stream().filter(s -> s.name().equals(backend)).findFirst();
    }
  }

  private final BackendFactory factory;
  private final ScheduledExecutorService loader;
  private final Events events;
  private final Duration maxBackoff;
  private final Map<String, MeshState> meshes = new ConcurrentHashMap<>();
  // Kuma Secrets by mesh and name, from policy-service and (Kubernetes mode) from the namespace's Secrets
  private final Map<String, Map<String, byte[]>> secrets = new ConcurrentHashMap<>();
  private final Map<String, Map<String, byte[]>> kubernetesSecrets = new ConcurrentHashMap<>();
  private final Map<String, List<Consumer<TrustBundle>>> bundleWatchers = new ConcurrentHashMap<>();
  private final List<Consumer<MeshState>> stateWatchers = new CopyOnWriteArrayList<>();
  // Seeded from the wall clock so that a restarted service never repeats an old bundle version.
  private final AtomicLong bundleVersion = new AtomicLong(System.currentTimeMillis() * 1000);
  private volatile boolean meshesSynced;
  private volatile boolean secretsSynced;
  private volatile boolean kubernetesSecretsSynced = true;
  private long generation;

  public MeshCaRegistry(Path dataDir, VaultBackendFactory vault, ScheduledExecutorService loader, Events events,
      Duration maxBackoff) {
    this(BuiltinRootStore.files(dataDir), vault, loader, events, maxBackoff);
  }

  public MeshCaRegistry(BuiltinRootStore roots, VaultBackendFactory vault, ScheduledExecutorService loader, Events events,
      Duration maxBackoff) {
    this.factory = new BackendFactory(roots, new DataSources(this::secret), vault);
    this.loader = loader;
    this.events = events;
    this.maxBackoff = maxBackoff;
  }

  // ------------------------------------------------------------------ inputs

  /** The full list of Meshes (universal resources), as streamed by policy-service. */
  public synchronized void applyMeshes(List<Resource> list) {
    Set<String> seen = new HashSet<>();
    for (Resource r : list) {
      seen.add(r.name());
      applyMesh(r.name(), r.spec(MeshSpec.class));
    }
    for (String gone : new ArrayList<>(meshes.keySet())) {
      if (!seen.contains(gone)) {
        MeshState removed = meshes.remove(gone);
        removed.slots().forEach(s -> closeQuietly(s.backend()));
        stateWatchers.forEach(w -> w.accept(new MeshState(gone, null, List.of(), null)));
      }
    }
    meshesSynced = true;
  }

  /** The full list of Secrets; provided backends that read a Secret are reloaded when it changes. */
  public synchronized void applySecrets(List<Resource> list) {
    Map<String, Map<String, byte[]>> next = new HashMap<>();
    for (Resource r : list) {
      String data = r.spec(SecretSpec.class).data();
      byte[] bytes;
      try {
        bytes = data == null ? new byte[0] : Base64.getMimeDecoder().decode(data);
      } catch (IllegalArgumentException e) {
        LOG.warnf("Secret %s/%s: data is not base64, ignored", r.mesh(), r.name());
        continue;
      }
      next.computeIfAbsent(r.mesh(), m -> new HashMap<>()).put(r.name(), bytes);
    }
    secretsSynced = true;
    replaceSecrets(secrets, next);
  }

  /**
   * Expects Kubernetes Secrets too (Kubernetes mode): readiness waits for the first
   * {@link #applyKubernetesSecrets}.
   */
  public void expectKubernetesSecrets() {
    kubernetesSecretsSynced = false;
  }

  /**
   * The Kuma Secrets found as Kubernetes Secrets (mesh → name → value). A data source's
   * {@code secret} is looked up in policy-service's Secrets first, then here.
   */
  public synchronized void applyKubernetesSecrets(Map<String, Map<String, byte[]>> next) {
    kubernetesSecretsSynced = true;
    replaceSecrets(kubernetesSecrets, next);
  }

  private void replaceSecrets(Map<String, Map<String, byte[]>> current, Map<String, Map<String, byte[]>> next) {
    Set<String> changedMeshes = new HashSet<>(next.keySet());
    changedMeshes.addAll(current.keySet());
    changedMeshes.removeIf(m -> sameSecrets(current.get(m), next.get(m)));
    // key by key, never cleared: a backend loading meanwhile must not see a Secret briefly missing
    current.keySet().retainAll(next.keySet());
    current.putAll(next);
    for (String mesh : changedMeshes) {
      MeshState state = meshes.get(mesh);
      if (state == null) {
        continue;
      }
      List<Slot> slots = new ArrayList<>();
      for (Slot s : state.slots()) {
        if (usesSecret(s.spec())) {
          closeQuietly(s.backend());
          Slot fresh = new Slot(s.spec(), null, null, false, 0);
          slots.add(fresh);
          scheduleLoad(mesh, fresh, Duration.ZERO);
        } else {
          slots.add(s);
        }
      }
      publish(new MeshState(mesh, state.enabledBackend(), slots, state.bundle()));
    }
  }

  private void applyMesh(String mesh, MeshSpec spec) {
    MeshState old = meshes.get(mesh);
    List<MeshSpec.Backend> specs = spec.mtls() == null || spec.mtls().backends() == null
        ? List.of() : spec.mtls().backends();
    String enabled = spec.mtls() == null ? null : spec.mtls().enabledBackend();
    List<Slot> slots = new ArrayList<>();
    Set<String> kept = new HashSet<>();
    for (MeshSpec.Backend b : specs) {
      if (b == null || b.name() == null) {
        continue;
      }
      Slot previous = old == null ? null : old.slot(b.name()).orElse(null);
      if (previous != null && Objects.equals(previous.spec(), b)) {
        slots.add(previous);
        kept.add(b.name());
      } else {
        Slot fresh = new Slot(b, null, null, false, 0);
        slots.add(fresh);
        scheduleLoad(mesh, fresh, Duration.ZERO);
      }
    }
    if (old != null) {
      old.slots().stream().filter(s -> !kept.contains(s.name())).forEach(s -> closeQuietly(s.backend()));
    }
    publish(new MeshState(mesh, enabled, slots, old == null ? null : old.bundle()));
  }

  // ----------------------------------------------------------------- loading

  private void scheduleLoad(String mesh, Slot slot, Duration delay) {
    long gen = ++generation;
    loader.schedule(() -> load(mesh, slot, gen), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void load(String mesh, Slot slot, long gen) {
    synchronized (this) {
      if (!isCurrent(mesh, slot)) {
        return; // replaced meanwhile
      }
    }
    CaBackend backend = null;
    String error = null;
    boolean permanent = false;
    try {
      backend = factory.load(mesh, slot.spec());
      lifetime(slot.spec()); // configuration errors of dpCert surface at load time, not at signing
    } catch (BackendConfigException e) {
      error = e.getMessage();
      permanent = true;
    } catch (IOException | RuntimeException e) {
      error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    if (backend != null && error != null) {
      closeQuietly(backend);
      backend = null;
      permanent = true;
    }
    String type = slot.spec().type() == null ? "builtin" : slot.spec().type().name();
    synchronized (this) {
      if (!isCurrent(mesh, slot)) {
        closeQuietly(backend);
        return;
      }
      MeshState state = meshes.get(mesh);
      Slot next = new Slot(slot.spec(), backend, error, permanent, slot.attempts() + 1);
      List<Slot> slots = new ArrayList<>(state.slots());
      slots.replaceAll(s -> s == slot ? next : s);
      publish(new MeshState(mesh, state.enabledBackend(), slots, state.bundle()));
      if (backend != null) {
        LOG.infof("mesh %s: %s backend %s loaded", mesh, type, slot.name());
        events.backendLoaded(mesh, backend);
      } else {
        LOG.warnf("mesh %s: %s backend %s failed%s: %s", mesh, type, slot.name(),
            permanent ? " (configuration, not retried)" : ", retrying", error);
        events.backendError(mesh, slot.name(), type, error);
        if (!permanent) {
          scheduleLoad(mesh, next, backoff(next.attempts()));
        }
      }
    }
  }

  private boolean isCurrent(String mesh, Slot slot) {
    MeshState state = meshes.get(mesh);
    return state != null && state.slots().stream().anyMatch(s -> s == slot);
  }

  Duration backoff(int attempts) {
    long base = Math.min(maxBackoff.toMillis(), 250L << Math.min(attempts, 16));
    return Duration.ofMillis(base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1));
  }

  // ----------------------------------------------------------------- outputs

  private void publish(MeshState state) {
    TrustBundle bundle = bundleOf(state);
    TrustBundle previous = state.bundle();
    boolean changed = previous == null
        || !previous.getRootsPem().equals(bundle.getRootsPem())
        || !previous.getBackendsList().equals(bundle.getBackendsList())
        || !previous.getEnabledBackend().equals(bundle.getEnabledBackend());
    TrustBundle effective = changed ? bundle.toBuilder().setVersion(bundleVersion.incrementAndGet()).build() : previous;
    MeshState next = new MeshState(state.name(), state.enabledBackend(), state.slots(), effective);
    meshes.put(state.name(), next);
    stateWatchers.forEach(w -> w.accept(next));
    if (changed) {
      for (Consumer<TrustBundle> w : bundleWatchers.getOrDefault(state.name(), List.of())) {
        w.accept(effective);
      }
    }
  }

  private static TrustBundle bundleOf(MeshState state) {
    StringBuilder roots = new StringBuilder();
    Set<String> seen = new HashSet<>();
    TrustBundle.Builder b = TrustBundle.newBuilder().setMesh(state.name())
        .setEnabledBackend(state.enabledBackend() == null ? "" : state.enabledBackend());
    for (Slot s : state.slots()) {
      b.addBackends(s.name());
      if (s.backend() == null) {
        continue;
      }
      for (X509Certificate c : s.backend().trustAnchors()) {
        String pem = Pem.certificate(c);
        if (seen.add(pem)) {
          roots.append(pem);
        }
      }
    }
    return b.setRootsPem(roots.toString()).build();
  }

  public Optional<MeshState> mesh(String name) {
    return Optional.ofNullable(meshes.get(name));
  }

  public Map<String, MeshState> meshes() {
    return Map.copyOf(meshes);
  }

  /** Subscribes to one mesh's bundle; the current one (if any) is delivered first. */
  public synchronized Runnable watchBundle(String mesh, Consumer<TrustBundle> watcher) {
    bundleWatchers.computeIfAbsent(mesh, m -> new CopyOnWriteArrayList<>()).add(watcher);
    MeshState state = meshes.get(mesh);
    if (state != null && state.bundle() != null) {
      watcher.accept(state.bundle());
    }
    return () -> bundleWatchers.getOrDefault(mesh, List.of()).remove(watcher);
  }

  public void watchStates(Consumer<MeshState> watcher) {
    stateWatchers.add(watcher);
  }

  /** Ready when the first Mesh and Secret lists arrived and every backend loaded or failed for good. */
  public Map<String, String> notReady() {
    Map<String, String> out = new LinkedHashMap<>();
    if (!meshesSynced) {
      out.put("meshes", "not received from policy-service yet");
    }
    if (!secretsSynced) {
      out.put("secrets", "not received from policy-service yet");
    }
    if (!kubernetesSecretsSynced) {
      out.put("kubernetes-secrets", "not listed from the Kubernetes API yet");
    }
    for (MeshState m : meshes.values()) {
      for (Slot s : m.slots()) {
        if (!s.settled()) {
          out.put(m.name() + "/" + s.name(), s.error() == null ? "loading" : s.error());
        }
      }
    }
    return out;
  }

  public boolean synced() {
    return meshesSynced;
  }

  /** Leaf lifetime of a backend: {@code dpCert.rotation.expiration}, 24h by default. */
  public static Duration lifetime(MeshSpec.Backend spec) {
    if (spec.dpCert() == null || spec.dpCert().rotation() == null || spec.dpCert().rotation().expiration() == null) {
      return DEFAULT_LEAF_LIFETIME;
    }
    Duration d = CaDurations.parse("dpCert.rotation.expiration", spec.dpCert().rotation().expiration());
    if (d.compareTo(Duration.ofMinutes(1)) < 0) {
      throw new IllegalArgumentException("dpCert.rotation.expiration: " + d + " (expected: at least 1m)");
    }
    return d;
  }

  Optional<byte[]> secret(String mesh, String name) {
    byte[] fromPolicy = secrets.getOrDefault(mesh, Map.of()).get(name);
    return Optional.ofNullable(fromPolicy != null ? fromPolicy : kubernetesSecrets.getOrDefault(mesh, Map.of()).get(name));
  }

  private static boolean usesSecret(MeshSpec.Backend b) {
    if (b.conf() instanceof MeshSpec.ProvidedConf p) {
      return (p.cert() != null && p.cert().secret() != null) || (p.key() != null && p.key().secret() != null);
    }
    return b.conf() instanceof MeshSpec.VaultConf; // Vault tokens, client certs and CA certs may be Secrets
  }

  private static boolean sameSecrets(Map<String, byte[]> a, Map<String, byte[]> b) {
    Map<String, byte[]> x = a == null ? Map.of() : a;
    Map<String, byte[]> y = b == null ? Map.of() : b;
    if (!x.keySet().equals(y.keySet())) {
      return false;
    }
    return x.entrySet().stream().allMatch(e -> java.util.Arrays.equals(e.getValue(), y.get(e.getKey())));
  }

  private static void closeQuietly(CaBackend backend) {
    if (backend != null) {
      try {
        backend.close();
      } catch (RuntimeException e) {
        LOG.debug("closing backend", e);
      }
    }
  }

  /** Seconds until the earliest trust anchor of a backend expires. */
  public static double secondsUntilExpiry(CaBackend backend) {
    Instant earliest = backend.trustAnchors().stream().map(c -> c.getNotAfter().toInstant())
        .min(Instant::compareTo).orElse(Instant.now());
    return Duration.between(Instant.now(), earliest).toMillis() / 1000.0;
  }

  static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void close() {
    meshes.values().forEach(m -> m.slots().forEach(s -> closeQuietly(s.backend())));
    meshes.clear();
  }
}
