package io.trellis.xds.bench;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.envoyproxy.controlplane.server.serializer.DefaultProtoResourcesSerializer;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.trellis.api.fixtures.Dataplanes;
import io.trellis.api.fixtures.Meshes;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.xds.testing.Views;
import io.trellis.xds.translate.ProxyInput;
import io.trellis.xds.translate.ProxyTranslator;
import io.trellis.xds.translate.XdsResources;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Load driver: N simulated ADS clients (SotW, CDS+EDS, ACK every response) against java-control-plane with
 * our translation, 1000 services, each proxy reaching K of them (service 0 always). One endpoint change
 * of service 0 → time until every proxy ACKed the new EDS, CPU-seconds of the push, heap per proxy.
 * Mode "shared" = our path (interned resources, cached serializer); "naive" = rebuild and reserialize per proxy.
 * Not a test: run with bench/run.sh.
 */
public final class PushBench {
  public static void main(String[] args) throws Exception {
    int proxies = Integer.parseInt(args[0]);
    String mode = args[1];
    int services = 1000;
    int perProxy = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    boolean shared = mode.equals("shared");
    SimpleCache<String> cache = new SimpleCache<>(Node::getId);
    V3DiscoveryServer server = new V3DiscoveryServer(List.of(), cache, new DefaultExecutorGroup(),
        shared ? new CachedProtoResourcesSerializer() : new DefaultProtoResourcesSerializer());
    String name = "bench-" + System.nanoTime();
    Server grpc = InProcessServerBuilder.forName(name).addService(server.getAggregatedDiscoveryServiceImpl()).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();

    List<ProxyView> views = new ArrayList<>();
    for (int i = 0; i < proxies; i++) {
      views.add(view(i, services, perProxy, 2));
    }
    for (int i = 0; i < proxies; i++) {
      cache.setSnapshot("default.p" + i, snapshot(views.get(i), shared));
    }
    ConcurrentHashMap<Integer, Long> ackedAt = new ConcurrentHashMap<>();
    CountDownLatch initial = new CountDownLatch(proxies);
    CountDownLatch pushed = new CountDownLatch(proxies);
    for (int i = 0; i < proxies; i++) {
      client(channel, i, initial, pushed, ackedAt);
    }
    if (!initial.await(300, TimeUnit.SECONDS)) {
      throw new IllegalStateException("initial sync incomplete: " + initial.getCount());
    }
    System.gc();
    Thread.sleep(500);
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    for (int i = 0; i < proxies; i++) {
      cache.setSnapshot("default.p" + i, snapshot(view(i, services, perProxy, 3), shared));
    }
    if (!pushed.await(300, TimeUnit.SECONDS)) {
      throw new IllegalStateException("push incomplete: " + pushed.getCount());
    }
    long cpu = os.getProcessCpuTime() - cpu0;
    long[] lat = ackedAt.values().stream().mapToLong(t -> t - t0).sorted().toArray();
    System.out.printf("mode=%s proxies=%d services=%d perProxy=%d p50=%dms p99=%dms max=%dms cpu=%.2fs heapPerProxy=%dKB%n",
        mode, proxies, services, perProxy, ms(lat[lat.length / 2]), ms(lat[(int) (lat.length * 0.99)]), ms(lat[lat.length - 1]),
        cpu / 1e9, heap / proxies / 1024);
    channel.shutdownNow();
    grpc.shutdownNow();
    System.exit(0);
  }

  static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  static ProxyView view(int i, int services, int perProxy, int endpointsOfService0) {
    Views.Builder b = Views.of(Dataplanes.builder().name("p" + i).address("10.1.0.1").inbound(8080, "svc-" + (i % services))
        .protocol("http").build(), Meshes.defaultMesh());
    for (int k = 0; k < perProxy; k++) {
      int s = k == 0 ? 0 : 1 + (i * 7 + k * 13) % (services - 1);
      int n = s == 0 ? endpointsOfService0 : 2;
      var eps = new io.trellis.api.policy.v1.Endpoint[n];
      for (int e = 0; e < n; e++) {
        eps[e] = Views.endpoint("10.2." + (s / 250) + "." + (s % 250), 8000 + e);
      }
      b.outbound("svc-" + s, "http", "127.0.0.1", 20000 + k, eps);
    }
    return b.build();
  }

  static io.envoyproxy.controlplane.cache.v3.Snapshot snapshot(ProxyView v, boolean shared) {
    XdsResources r = ProxyTranslator.translate(ProxyInput.of(v, ProxyInput.ClientKind.ENVOY, Views.CODEC), null);
    return shared ? io.trellis.xds.BenchAccess.snapshotShared(r) : io.trellis.xds.BenchAccess.snapshotPlain(r);
  }

  static void client(ManagedChannel channel, int i, CountDownLatch initial, CountDownLatch pushed,
      ConcurrentHashMap<Integer, Long> ackedAt) {
    Node node = Node.newBuilder().setId("default.p" + i).build();
    StreamObserver<DiscoveryRequest>[] req = new StreamObserver[1];
    req[0] = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      boolean first = true;

      @Override
      public void onNext(DiscoveryResponse r) {
        synchronized (req) {
          req[0].onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
              .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).build());
        }
        if (r.getTypeUrl().equals(Resources.V3.ENDPOINT_TYPE_URL)) {
          if (first) {
            first = false;
            initial.countDown();
          } else if (ackedAt.putIfAbsent(i, System.nanoTime()) == null) {
            pushed.countDown();
          }
        }
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    });
    synchronized (req) {
      req[0].onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(Resources.V3.ENDPOINT_TYPE_URL).build());
    }
  }

}
