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

  /** Starts watching; returns once the initial list has been delivered. */
  public KumaSecretsInformer(KubernetesClient client, String namespace, Consumer<Map<String, Map<String, byte[]>>> consumer) {
    this.consumer = consumer;
    this.informer = client.secrets().inNamespace(namespace).inform(new ResourceEventHandler<>() {
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
    publish();
  }

  // events of the initial list arrive before the informer is assigned; the constructor publishes them at once
  private volatile boolean started;

  private void changed(Secret s) {
    if (started && TYPE.equals(s.getType())) {
      publish();
    }
  }

  private synchronized void publish() {
    started = true;
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
