package io.trellis.policy.kubernetes;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.validation.ValidationException;
import io.trellis.policy.store.ConflictException;
import io.trellis.policy.store.ResourceStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Kubernetes mode: keeps one Dataplane per injected Pod ({@link PodDataplanes}) in the store. Pods, Services and
 * Namespaces are watched with informers; every change queues the pods it can affect (a Service or Namespace change:
 * every pod of that namespace) and one worker thread reconciles them in order, writing through the store (so every
 * Dataplane is validated and versioned like any other write). A pod that goes away, loses its sidecar or its last
 * Service takes its Dataplane with it; Dataplanes not created by this controller are never touched. Each Dataplane
 * names its pod as owner, so the cluster removes it with the pod when this controller is not running.
 */
public final class PodDataplaneController implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PodDataplaneController.class);
  private static final int CONFLICT_RETRIES = 3;

  private final KubernetesClient client;
  private final KubernetesResourceStore store;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pod-dataplane-controller");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean initialSyncDone = new AtomicBoolean();
  private SharedIndexInformer<Pod> pods;
  private SharedIndexInformer<Service> services;
  private SharedIndexInformer<Namespace> namespaces;

  private PodDataplaneController(KubernetesClient client, KubernetesResourceStore store) {
    this.client = requireNonNull(client, "client");
    this.store = requireNonNull(store, "store");
  }

  /** Starts the informers; once they have synced, reconciles every pod and removes orphaned Dataplanes. */
  public static PodDataplaneController start(KubernetesClient client, KubernetesResourceStore store) {
    PodDataplaneController controller = new PodDataplaneController(client, store);
    controller.pods = controller.inform(client.pods().inAnyNamespace().runnableInformer(0),
        pod -> controller.enqueue(pod.getMetadata().getNamespace(), pod.getMetadata().getName()));
    controller.services = controller.inform(client.services().inAnyNamespace().runnableInformer(0),
        svc -> controller.enqueueNamespace(svc.getMetadata().getNamespace()));
    controller.namespaces = controller.inform(client.namespaces().runnableInformer(0),
        ns -> controller.enqueueNamespace(ns.getMetadata().getName()));
    controller.pods.start();
    controller.services.start();
    controller.namespaces.start();
    controller.worker.execute(controller::initialSync);
    return controller;
  }

  /** Whether the informers have synced and every pod seen then has been reconciled. */
  public boolean synced() {
    return initialSyncDone.get();
  }

  private <T extends HasMetadata> SharedIndexInformer<T> inform(SharedIndexInformer<T> informer, Consumer<T> onChange) {
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        onChange.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        onChange.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        onChange.accept(obj);
      }
    });
    return informer;
  }

  private void initialSync() {
    try {
      while (!(pods.hasSynced() && services.hasSynced() && namespaces.hasSynced() && store.synced())) {
        Thread.sleep(20);
      }
      for (Pod pod : pods.getStore().list()) {
        reconcile(pod.getMetadata().getNamespace(), pod.getMetadata().getName());
      }
      // Dataplanes whose pods went away while nobody was watching
      for (Resource dp : store.list(ResourceType.DATAPLANE, null, Map.of(), 0, Integer.MAX_VALUE).items()) {
        if (managed(dp)) {
          int dot = dp.name().lastIndexOf('.');
          reconcile(dp.name().substring(dot + 1), dp.name().substring(0, dot));
        }
      }
      initialSyncDone.set(true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void enqueue(String namespace, String name) {
    if (!worker.isShutdown()) {
      worker.execute(() -> reconcile(namespace, name));
    }
  }

  private void enqueueNamespace(String namespace) {
    if (!worker.isShutdown()) {
      worker.execute(() -> {
        for (Pod pod : pods.getIndexer().byIndex("namespace", namespace)) {
          reconcile(namespace, pod.getMetadata().getName());
        }
      });
    }
  }

  /** Brings the Dataplane of one pod in line with the pod; never throws (a bad pod must not stop the others). */
  void reconcile(String namespace, String podName) {
    String dpName = podName + "." + namespace;
    for (int attempt = 0; attempt <= CONFLICT_RETRIES; attempt++) {
      try {
        Pod pod = pods.getIndexer().getByKey(namespace + "/" + podName);
        Optional<Resource> desired = Optional.empty();
        if (pod != null) {
          List<Service> inNamespace = new ArrayList<>(services.getIndexer().byIndex("namespace", namespace));
          Namespace ns = namespaces.getIndexer().getByKey(namespace);
          desired = PodDataplanes.dataplane(pod, inNamespace, ns);
        }
        Optional<Resource> current = store.getInAnyMesh(ResourceType.DATAPLANE, dpName);
        if (current.isPresent() && !managed(current.get())) {
          LOG.warnf("Dataplane %s exists and was not created from its pod: left alone", dpName);
          return;
        }
        if (desired.isEmpty()) {
          if (current.isPresent()) {
            store.delete(ResourceType.DATAPLANE, current.get().mesh(), dpName, current.get().meta().version());
          }
          return;
        }
        Resource want = desired.get();
        if (current.isPresent() && !Objects.equals(current.get().mesh(), want.mesh())) {
          // moved to another mesh: a Dataplane cannot change mesh in place
          store.delete(ResourceType.DATAPLANE, current.get().mesh(), dpName, current.get().meta().version());
          current = Optional.empty();
        }
        String podUid = pod.getMetadata().getUid();
        if (current.isPresent() && current.get().spec().equals(want.spec())
            && current.get().meta().labels().equals(want.meta().labels())
            && (podUid == null || store.ownerUids(ResourceType.DATAPLANE, dpName).equals(List.of(podUid)))) {
          return;
        }
        store.put(want, current.map(r -> r.meta().version()).orElse(ResourceStore.NEW), owner(pod));
        return;
      } catch (ConflictException e) {
        LOG.debugf("Dataplane %s changed while reconciling (%s); again", dpName, e.getMessage());
      } catch (ValidationException e) {
        LOG.warnf("pod %s/%s gives an invalid Dataplane, none written: %s", namespace, podName, e.errors());
        return;
      } catch (RuntimeException e) {
        LOG.errorf(e, "reconciling the Dataplane of pod %s/%s failed", namespace, podName);
        return;
      }
    }
    LOG.warnf("Dataplane %s kept changing under the controller; the next pod or Service event retries", dpName);
  }

  /**
   * The pod owns its Dataplane as in Kuma, so Kubernetes' garbage collector deletes the Dataplane with the pod
   * even while policy-service is down. A pod recreated under the same name (StatefulSet) has a new UID: the
   * reference is rewritten, or the collector would take the new pod's Dataplane for an orphan of the old one.
   * Not blockOwnerDeletion: that would need update rights on pods/finalizers for nothing the mesh needs.
   */
  private static OwnerReference owner(Pod pod) {
    if (pod.getMetadata().getUid() == null) {
      return null; // an API server always sets one; without it a reference would be refused
    }
    return new OwnerReferenceBuilder().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName())
        .withUid(pod.getMetadata().getUid()).withController(true).build();
  }

  private static boolean managed(Resource dp) {
    return PodDataplanes.MANAGED_BY_VALUE.equals(dp.meta().labels().get(PodDataplanes.MANAGED_BY));
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (SharedIndexInformer<?> informer : List.of(pods, services, namespaces)) {
      informer.close();
    }
  }
}
