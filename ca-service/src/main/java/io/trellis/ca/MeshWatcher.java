package io.trellis.ca;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.auth.ServiceTokens;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ResourceList;
import io.trellis.api.policy.v1.ResourcesRef;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Follows policy-service's Meshes and Secrets ({@code PolicyDiscovery.WatchResources}) and feeds
 * them to the {@link MeshCaRegistry}. A broken stream is re-opened with backoff; each (re)opened
 * stream starts with the full list, so nothing is missed across reconnects.
 */
@ApplicationScoped
public class MeshWatcher {
  private static final Logger LOG = Logger.getLogger(MeshWatcher.class);
  private final ResourceCodec codec = new ResourceCodec();
  private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "mesh-watcher-retry");
    t.setDaemon(true);
    return t;
  });

  @Inject
  CaRuntime runtime;

  @ConfigProperty(name = "trellis.policy.address", defaultValue = "127.0.0.1:5681")
  String address;

  @ConfigProperty(name = "trellis.data-dir")
  Path dataDir;

  @ConfigProperty(name = "trellis.ca.max-backoff", defaultValue = "30s")
  Duration maxBackoff;

  private ManagedChannel channel;
  private PolicyDiscoveryGrpc.PolicyDiscoveryStub stub;
  private volatile boolean stopped;

  void start(@Observes StartupEvent event) throws IOException {
    String token = ServiceTokens.loadOrCreate(dataDir);
    channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
    stub = PolicyDiscoveryGrpc.newStub(channel).withCallCredentials(BearerAuth.credentials(token));
    watch("Mesh", list -> runtime.registry().applyMeshes(list), 0);
    watch("Secret", list -> runtime.registry().applySecrets(list), 0);
  }

  void stop(@Observes ShutdownEvent event) {
    stopped = true;
    retry.shutdownNow();
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  private void watch(String type, Consumer<List<Resource>> sink, int failures) {
    if (stopped) {
      return;
    }
    stub.watchResources(ResourcesRef.newBuilder().setType(type).build(), new StreamObserver<>() {
      boolean received;

      @Override
      public void onNext(ResourceList list) {
        received = true;
        List<Resource> resources = new ArrayList<>();
        for (String json : list.getResourceJsonsList()) {
          try {
            resources.add(codec.readUniversal(json));
          } catch (RuntimeException e) {
            // fail closed: a Mesh we cannot read is unknown here, so nothing is signed for it
            LOG.warnf("%s from policy-service ignored: %s", type, e.getMessage());
          }
        }
        try {
          sink.accept(resources);
        } catch (RuntimeException e) {
          LOG.errorf(e, "applying %s list", type);
        }
      }

      @Override
      public void onError(Throwable t) {
        if (stopped) {
          return;
        }
        int next = received ? 1 : failures + 1;
        long base = Math.min(maxBackoff.toMillis(), 200L << Math.min(next, 16));
        long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
        LOG.warnf("watching %s at %s: %s; retrying in %d ms", type, address, Status.fromThrowable(t), delay);
        schedule(() -> watch(type, sink, next), delay);
      }

      @Override
      public void onCompleted() {
        schedule(() -> watch(type, sink, 1), 200);
      }
    });
  }

  private void schedule(Runnable r, long delayMs) {
    if (!stopped) {
      retry.schedule(r, delayMs, TimeUnit.MILLISECONDS);
    }
  }
}
