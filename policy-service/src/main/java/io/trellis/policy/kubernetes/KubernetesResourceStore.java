package io.trellis.policy.kubernetes;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.ResourceType;
import io.trellis.api.validation.FieldError;
import io.trellis.api.validation.ValidationException;
import io.trellis.api.validation.Validators;
import io.trellis.policy.store.ChangeEvent;
import io.trellis.policy.store.ConflictException;
import io.trellis.policy.store.ResourceStore;
import io.trellis.policy.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * {@link ResourceStore} on Kubernetes: every kind is a {@code kuma.io/v1alpha1} custom resource (Secrets are core
 * Secrets of type {@code system.kuma.io/secret}), read through one informer per kind and written through the API.
 *
 * <ul>
 *   <li>The store's version is the object's {@code resourceVersion} (numeric on every real API server and on
 *       fabric8's mock server); a write naming a stale one is refused by the API server (409) and surfaces as
 *       {@link ConflictException}.
 *   <li>Reads come from the informers' view. A write returns only once its own informer has seen it, so a
 *       caller reads its writes, and change events (from the informers, including changes made with kubectl)
 *       reach listeners before the write returns.
 *   <li>Objects that do not pass the codec and {@link Validators} (e.g. applied while the validating webhook was
 *       down) are logged and treated as absent: a proxy never gets configuration derived from an invalid object.
 * </ul>
 */
public final class KubernetesResourceStore implements ResourceStore {
  private static final Logger LOG = Logger.getLogger(KubernetesResourceStore.class);
  private static final Duration WRITE_VISIBLE_TIMEOUT = Duration.ofSeconds(10);
  private static final int ANY_VERSION_ATTEMPTS = 5;

  private final KubernetesClient client;
  private final ResourceCodec codec;
  private final KubernetesNames names;
  /** (kind, namespace, k8s name) → resource in core form. */
  private final Map<String, io.trellis.api.model.Resource> cache = new ConcurrentHashMap<>();
  /** (kind, namespace, k8s name) → last resourceVersion seen, also for objects rejected as invalid. */
  private final Map<String, Long> seenVersions = new ConcurrentHashMap<>();
  private final List<Consumer<ChangeEvent>> listeners = new CopyOnWriteArrayList<>();
  private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();
  private final Map<KumaKind, SharedIndexInformer<GenericKubernetesResource>> informerOf =
      new java.util.EnumMap<>(KumaKind.class);
  /** Serialises cache updates with event publication so listeners see changes in the order applied. */
  private final Object publishLock = new Object();
  private final Object seen = new Object();

  private KubernetesResourceStore(KubernetesClient client, ResourceCodec codec, KubernetesNames names) {
    this.client = requireNonNull(client, "client");
    this.codec = requireNonNull(codec, "codec");
    this.names = requireNonNull(names, "names");
  }

  /**
   * Starts one informer per kind (all namespaces) and returns at once; {@link #synced()} tells when every kind
   * has been listed.
   */
  public static KubernetesResourceStore start(KubernetesClient client, ResourceCodec codec, String systemNamespace) {
    KubernetesResourceStore store = new KubernetesResourceStore(client, codec, new KubernetesNames(systemNamespace));
    for (KumaKind kind : KumaKind.values()) {
      store.inform(kind);
    }
    return store;
  }

  public KubernetesNames names() {
    return names;
  }

  private void inform(KumaKind kind) {
    var operation = client.genericKubernetesResources(kind.context());
    // Kuma's mesh Secrets live in the system namespace only: never watch (or need RBAC for) every Secret of the
    // cluster
    SharedIndexInformer<GenericKubernetesResource> informer = (kind == KumaKind.SECRET
        ? operation.inNamespace(names.systemNamespace())
        : kind.namespaced() ? operation.inAnyNamespace() : operation).runnableInformer(0);
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource obj) {
        observed(kind, obj, false);
      }

      @Override
      public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
        observed(kind, newObj, false);
      }

      @Override
      public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
        observed(kind, obj, true);
      }
    });
    informer.exceptionHandler((running, t) -> {
      LOG.warnf("informer for %s failed (%s); retrying", kind.crdName(), t.toString());
      return true;
    });
    informers.add(informer);
    informerOf.put(kind, informer);
    informer.start();
  }

  @Override
  public boolean synced() {
    return !informers.isEmpty() && informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  // ------------------------------------------------------------------ reads

  @Override
  public Optional<io.trellis.api.model.Resource> get(ResourceType type, String mesh, String name) {
    KumaKind kind = KumaKind.of(type);
    KubernetesNames.ObjectName ref;
    try {
      ref = names.toKubernetes(kind, name);
    } catch (ValidationException e) {
      return Optional.empty(); // no object can have that name here
    }
    io.trellis.api.model.Resource r = cache.get(key(kind, ref.namespace(), ref.name()));
    if (r == null || (type.isMeshScoped() && !Objects.equals(r.mesh(), mesh))) {
      return Optional.empty();
    }
    return Optional.of(r);
  }

  /** A resource by kind and name whatever its mesh: names are unique per namespace on Kubernetes. */
  public Optional<io.trellis.api.model.Resource> getInAnyMesh(ResourceType type, String name) {
    KumaKind kind = KumaKind.of(type);
    try {
      KubernetesNames.ObjectName ref = names.toKubernetes(kind, name);
      return Optional.ofNullable(cache.get(key(kind, ref.namespace(), ref.name())));
    } catch (ValidationException e) {
      return Optional.empty();
    }
  }

  /**
   * The UIDs in a resource's {@code metadata.ownerReferences} as the informer last saw them (empty when it has
   * none or does not exist): the core model does not carry owners, the Kubernetes object does.
   */
  public List<String> ownerUids(ResourceType type, String name) {
    KumaKind kind = KumaKind.of(type);
    KubernetesNames.ObjectName ref;
    try {
      ref = names.toKubernetes(kind, name);
    } catch (ValidationException e) {
      return List.of();
    }
    GenericKubernetesResource obj = informerOf.get(kind).getIndexer()
        .getByKey(ref.namespace() == null ? ref.name() : ref.namespace() + "/" + ref.name());
    if (obj == null || obj.getMetadata().getOwnerReferences() == null) {
      return List.of();
    }
    return obj.getMetadata().getOwnerReferences().stream().map(OwnerReference::getUid).toList();
  }

  @Override
  public Page list(ResourceType type, String mesh, Map<String, String> labels, int offset, int size) {
    List<io.trellis.api.model.Resource> all = cache.values().stream()
        .filter(r -> r.type() == type)
        .filter(r -> mesh == null || !type.isMeshScoped() || mesh.equals(r.mesh()))
        .filter(r -> r.meta().labels().entrySet().containsAll(labels.entrySet()))
        .sorted(ORDER)
        .toList();
    int from = Math.min(Math.max(offset, 0), all.size());
    int to = (int) Math.min((long) from + Math.max(size, 0), all.size());
    return new Page(List.copyOf(all.subList(from, to)), all.size());
  }

  @Override
  public List<io.trellis.api.model.Resource> listAll() {
    return cache.values().stream()
        .sorted(Comparator.comparing((io.trellis.api.model.Resource r) -> r.type().kumaName()).thenComparing(ORDER))
        .toList();
  }

  private static final Comparator<io.trellis.api.model.Resource> ORDER =
      Comparator.comparing((io.trellis.api.model.Resource r) -> r.mesh() == null ? "" : r.mesh())
          .thenComparing(io.trellis.api.model.Resource::name);

  // ----------------------------------------------------------------- writes

  @Override
  public io.trellis.api.model.Resource put(io.trellis.api.model.Resource resource, long expectedVersion) {
    return put(resource, expectedVersion, null);
  }

  /**
   * {@link #put(io.trellis.api.model.Resource, long)} with {@code metadata.ownerReferences} set to {@code owner}
   * (none when null), so that Kubernetes' garbage collector removes the object with its owner even while nobody
   * here is running.
   */
  public io.trellis.api.model.Resource put(io.trellis.api.model.Resource resource, long expectedVersion,
      OwnerReference owner) {
    Validators.requireValid(resource);
    KumaKind kind = KumaKind.of(resource.type());
    KubernetesNames.ObjectName ref = names.toKubernetes(kind, resource.name());
    String key = key(kind, ref.namespace(), ref.name());
    io.trellis.api.model.Resource current = cache.get(key);
    if (current != null && resource.type().isMeshScoped() && !Objects.equals(current.mesh(), resource.mesh())) {
      // one Kubernetes object per name: the same name cannot exist in two meshes
      throw new ConflictException(describe(kind, ref) + ": exists in mesh " + current.mesh()
          + " (expected: a name unused in this namespace, or mesh " + current.mesh() + ")");
    }
    GenericKubernetesResource desired = toObject(resource, kind, ref);
    if (owner != null) {
      desired.getMetadata().setOwnerReferences(List.of(owner));
    }
    GenericKubernetesResource written;
    try {
      if (expectedVersion == NEW) {
        written = op(kind, ref).resource(desired).create();
      } else if (expectedVersion > 0) {
        desired.getMetadata().setResourceVersion(Long.toString(expectedVersion));
        written = update(kind, ref, desired, expectedVersion);
      } else {
        written = overwrite(kind, ref, desired);
      }
    } catch (KubernetesClientException e) {
      throw translate(e, kind, ref, expectedVersion);
    }
    long version = version(written);
    awaitSeen(key, version);
    io.trellis.api.model.Resource stored = cache.get(key);
    if (stored == null || stored.meta().version() < version) {
      // the informer is behind (or the object was rejected on read): answer from what the API server returned
      return fromObject(kind, written);
    }
    return stored;
  }

  private GenericKubernetesResource update(KumaKind kind, KubernetesNames.ObjectName ref,
      GenericKubernetesResource desired, long expectedVersion) {
    try {
      return op(kind, ref).resource(desired).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        throw new ConflictException(describe(kind, ref) + ": version " + expectedVersion
            + " (expected: the resource to exist; it was deleted)");
      }
      throw e;
    }
  }

  /** Create or overwrite (Kuma's PUT without a version): the API server needs the current version to update. */
  private GenericKubernetesResource overwrite(KumaKind kind, KubernetesNames.ObjectName ref,
      GenericKubernetesResource desired) {
    KubernetesClientException last = null;
    for (int attempt = 0; attempt < ANY_VERSION_ATTEMPTS; attempt++) {
      GenericKubernetesResource live = op(kind, ref).withName(ref.name()).get();
      try {
        if (live == null) {
          desired.getMetadata().setResourceVersion(null);
          return op(kind, ref).resource(desired).create();
        }
        desired.getMetadata().setResourceVersion(live.getMetadata().getResourceVersion());
        return op(kind, ref).resource(desired).update();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 && e.getCode() != 404) {
          throw e;
        }
        last = e; // raced with another writer: read again
      }
    }
    throw new ConflictException(describe(kind, ref) + ": changed concurrently " + ANY_VERSION_ATTEMPTS
        + " times (expected: retry)" + (last == null ? "" : "; last: " + last.getMessage()));
  }

  @Override
  public boolean delete(ResourceType type, String mesh, String name, long expectedVersion) {
    KumaKind kind = KumaKind.of(type);
    KubernetesNames.ObjectName ref;
    try {
      ref = names.toKubernetes(kind, name);
    } catch (ValidationException e) {
      return false;
    }
    String key = key(kind, ref.namespace(), ref.name());
    io.trellis.api.model.Resource current = cache.get(key);
    if (current == null || (type.isMeshScoped() && !Objects.equals(current.mesh(), mesh))) {
      return false;
    }
    if (expectedVersion > 0 && current.meta().version() != expectedVersion) {
      throw new ConflictException(describe(kind, ref) + ": version " + expectedVersion + " is stale (current: "
          + current.meta().version() + ")");
    }
    if (type == ResourceType.MESH) {
      // A mesh takes everything in it along, as in Kuma (there through owner references and the garbage
      // collector, which not every API server runs: done explicitly so the result does not depend on it).
      for (io.trellis.api.model.Resource r : listAll()) {
        if (r.type() != ResourceType.MESH && name.equals(r.mesh())) {
          delete(r.type(), r.mesh(), r.name(), ANY_VERSION);
        }
      }
    }
    try {
      var resource = op(kind, ref).withName(ref.name());
      List<?> deleted = expectedVersion > 0
          ? resource.lockResourceVersion(Long.toString(expectedVersion)).delete()
          : resource.delete();
      if (deleted.isEmpty()) {
        return false;
      }
    } catch (KubernetesClientException e) {
      throw translate(e, kind, ref, expectedVersion);
    }
    awaitGone(key);
    return true;
  }

  @Override
  public AutoCloseable watch(Consumer<ChangeEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }

  // ------------------------------------------------------------- informers

  private void observed(KumaKind kind, GenericKubernetesResource obj, boolean deleted) {
    String namespace = obj.getMetadata().getNamespace();
    String key = key(kind, kind.namespaced() ? namespace : null, obj.getMetadata().getName());
    io.trellis.api.model.Resource after = null;
    if (!deleted) {
      if (kind == KumaKind.SECRET && !ResourceCodec.SECRET_TYPE.equals(obj.get("type"))) {
        return; // an ordinary Secret, not Kuma's
      }
      try {
        after = Validators.requireValid(fromObject(kind, obj));
      } catch (ValidationException | StoreException e) {
        LOG.warnf("ignoring %s %s/%s: %s", kind.type().kumaName(), namespace, obj.getMetadata().getName(),
            e instanceof ValidationException v ? v.errors() : e.getMessage());
      }
    }
    synchronized (publishLock) {
      io.trellis.api.model.Resource before = after == null ? cache.remove(key) : cache.put(key, after);
      if (before != null || after != null) {
        io.trellis.api.model.Resource any = after != null ? after : before;
        ChangeEvent event = new ChangeEvent(any.type(), any.mesh(), any.name(), before, after);
        for (Consumer<ChangeEvent> listener : listeners) {
          try {
            listener.accept(event);
          } catch (RuntimeException e) {
            LOG.warnf(e, "store listener failed on %s %s", event.type().kumaName(), event.name());
          }
        }
      }
    }
    synchronized (seen) {
      if (deleted) {
        seenVersions.remove(key);
      } else {
        seenVersions.put(key, version(obj));
      }
      seen.notifyAll();
    }
  }

  private void awaitSeen(String key, long version) {
    awaitUntil(() -> seenVersions.getOrDefault(key, 0L) >= version, key);
  }

  private void awaitGone(String key) {
    awaitUntil(() -> !seenVersions.containsKey(key), key);
  }

  private void awaitUntil(java.util.function.BooleanSupplier condition, String key) {
    long deadline = System.nanoTime() + WRITE_VISIBLE_TIMEOUT.toNanos();
    synchronized (seen) {
      while (!condition.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          // the write is committed; only its echo is late (informer reconnecting): say so, do not fail it
          LOG.warnf("store: %s written but not yet seen by its informer after %s", key, WRITE_VISIBLE_TIMEOUT);
          return;
        }
        try {
          seen.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  // ------------------------------------------------------------- conversion

  private GenericKubernetesResource toObject(io.trellis.api.model.Resource resource, KumaKind kind,
      KubernetesNames.ObjectName ref) {
    Meta meta = resource.meta();
    // creation time and version belong to the API server
    io.trellis.api.model.Resource named = new io.trellis.api.model.Resource(resource.type(),
        new Meta(meta.mesh(), ref.name(), meta.labels(), 0, null, null), resource.spec());
    ObjectNode node = codec.toKubernetesNode(named, ref.namespace());
    return client.getKubernetesSerialization().unmarshal(node.toString(), GenericKubernetesResource.class);
  }

  private io.trellis.api.model.Resource fromObject(KumaKind kind, GenericKubernetesResource obj) {
    JsonNode node = codec.parse(client.getKubernetesSerialization().asJson(obj));
    io.trellis.api.model.Resource read;
    try {
      read = codec.readKubernetes(node);
    } catch (ValidationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StoreException("store: unreadable " + kind.crdName() + " " + obj.getMetadata().getName(), e);
    }
    Meta meta = read.meta();
    String coreName = names.toCore(kind, obj.getMetadata().getNamespace(), obj.getMetadata().getName());
    return new io.trellis.api.model.Resource(read.type(), new Meta(meta.mesh(), coreName, meta.labels(),
        version(obj), meta.creationTime(), null), read.spec());
  }

  private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList,
      Resource<GenericKubernetesResource>> op(KumaKind kind, KubernetesNames.ObjectName ref) {
    var operation = client.genericKubernetesResources(kind.context());
    return ref.namespace() == null ? operation : operation.inNamespace(ref.namespace());
  }

  private static long version(GenericKubernetesResource obj) {
    String rv = obj.getMetadata().getResourceVersion();
    try {
      return rv == null ? 0 : Long.parseLong(rv);
    } catch (NumberFormatException e) {
      // Kubernetes calls resourceVersion opaque; every API server in use (etcd revisions) makes it a number
      throw new StoreException("store: resourceVersion '" + rv + "' is not a number (expected: an etcd revision)",
          e);
    }
  }

  private RuntimeException translate(KubernetesClientException e, KumaKind kind, KubernetesNames.ObjectName ref,
      long expectedVersion) {
    return switch (e.getCode()) {
      case 409 -> new ConflictException(describe(kind, ref) + (expectedVersion == NEW ? ": already exists"
          : ": version " + expectedVersion + " is stale") + " (" + reason(e) + ")");
      case 404 -> new ConflictException(describe(kind, ref) + ": does not exist (expected: it to exist; "
          + reason(e) + ")");
      case 400, 422 -> new ValidationException(List.of(new FieldError("", "refused by the Kubernetes API server: "
          + reason(e))));
      default -> new StoreException("store: " + describe(kind, ref) + " failed on the Kubernetes API", e);
    };
  }

  private static String reason(KubernetesClientException e) {
    return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
  }

  private static String describe(KumaKind kind, KubernetesNames.ObjectName ref) {
    return kind.type().kumaName() + " " + (ref.namespace() == null ? "" : ref.namespace() + "/") + ref.name();
  }

  private static String key(KumaKind kind, String namespace, String name) {
    return kind.name() + "/" + (namespace == null ? "" : namespace) + "/" + name;
  }
}
