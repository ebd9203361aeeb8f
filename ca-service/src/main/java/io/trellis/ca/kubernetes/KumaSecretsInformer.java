package io.trellis.ca.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Kuma Secrets kept as Kubernetes Secrets (Kuma's Kubernetes form: type {@code system.kuma.io/secret}
 * in the control-plane namespace, mesh in the {@code kuma.io/mesh} label, {@code default} when
 * absent, value in {@code data.value}). Every change hands the complete set to the consumer, so
 * provided backends reading a Secret reload when it changes.
 */
public final class KumaSecretsInformer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(KumaSecretsInformer.class);
  public static final String TYPE = "system.kuma.io/secret";
  public static final String MESH_LABEL = "kuma.io/mesh";

  private final SharedIndexInformer<Secret> informer;
  private final Consumer<Map<String, Map<String, byte[]>>> consumer;

  /**
   * Starts watching and returns at once. The complete set goes to the consumer once the first list has arrived,
   * then on every change. An API server that is unreachable or refuses the list at start does not fail the
   * service: the informer keeps retrying with back-off, and until the first list arrives the consumer has
   * nothing (ca-service's readiness says so).
   */
  public KumaSecretsInformer(KubernetesClient client, String namespace, Consumer<Map<String, Map<String, byte[]>>> consumer) {
    this.consumer = consumer;
    this.informer = client.secrets().inNamespace(namespace).runnableInformer(0);
    informer.exceptionHandler((started, error) -> {
      LOG.warnf("listing/watching Secrets in namespace %s failed (%s), retrying", namespace, error.toString());
      return true;
    });
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Secret s) {
        changed(s);
      }

      @Override
      public void onUpdate(Secret before, Secret after) {
        changed(after);
      }

      @Override
      public void onDelete(Secret s, boolean unknownFinalState) {
        changed(s);
      }
    });
    informer.start().whenComplete((ok, error) -> {
      if (error == null) {
        publish();
      } else {
        LOG.errorf("Secrets informer in namespace %s stopped: %s", namespace, error.toString());
      }
    });
  }

  // before the first list is complete the store is partial: nothing is published until then
  private void changed(Secret s) {
    if (informer.hasSynced() && TYPE.equals(s.getType())) {
      publish();
    }
  }

  private synchronized void publish() {
    Map<String, Map<String, byte[]>> out = new HashMap<>();
    for (Secret s : informer.getStore().list()) {
      if (!TYPE.equals(s.getType())) {
        continue;
      }
      Map<String, String> labels = s.getMetadata().getLabels() == null ? Map.of() : s.getMetadata().getLabels();
      String mesh = labels.getOrDefault(MESH_LABEL, "default");
      String value = s.getData() == null ? null : s.getData().get("value");
      byte[] bytes;
      try {
        bytes = value == null ? new byte[0] : Base64.getMimeDecoder().decode(value);
      } catch (IllegalArgumentException e) {
        LOG.warnf("Secret %s: data.value is not base64, ignored", s.getMetadata().getName());
        continue;
      }
      out.computeIfAbsent(mesh, m -> new HashMap<>()).put(s.getMetadata().getName(), bytes);
    }
    consumer.accept(out);
  }

  @Override
  public void close() {
    informer.close();
  }
}
