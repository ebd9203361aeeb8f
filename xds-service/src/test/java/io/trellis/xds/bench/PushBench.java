package io.trellis.xds.bench;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.envoyproxy.controlplane.server.serializer.DefaultProtoResourcesSerializer;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
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
 * our translation, 1000 services, each proxy reaching K of them (service 0 always) with Kuma's default
 * MeshTimeout/MeshRetry/MeshCircuitBreaker rules. One endpoint change
 * of service 0 → time until every proxy ACKed the new EDS, CPU-seconds of the push, heap per proxy.
 * Every proxy receives its new view as bytes and parses it (as from policy-service's stream), then:
 * mode "shared" = our path ({@link io.trellis.xds.SnapshotBuilder} per proxy as in ProxySession: unchanged
 * pieces reused, per-service pieces built once for all proxies, cached serializer); "naive" = full
 * translation and serialization per proxy. Two CPU figures: the process (simulated clients and GC included,
 * the same client work in both modes) and the control plane's push (the thread that parses, translates and
 * sets the snapshots; java-control-plane builds and serializes the responses on it). Mode "delta" = the shared
 * path with incremental (delta) xDS clients: only changed resources are sent. Also printed: ClusterLoadAssignments
 * per EDS response of the measured push. Not a test: run with bench/run.sh.
 */
public final class PushBench {
  public static void main(String[] args) throws Exception {
    int proxies = Integer.parseInt(args[0]);
    String mode = args[1];
    int services = 1000;
    int perProxy = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    boolean delta = mode.equals("delta");
    boolean shared = mode.equals("shared") || delta;
    if (!shared && !mode.equals("naive")) {
      throw new IllegalArgumentException("mode: " + mode + " (expected: shared, naive or delta)");
    }
    System.gc();
    long baseHeap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    SimpleCache<String> cache = new SimpleCache<>(Node::getId);
    V3DiscoveryServer server = new V3DiscoveryServer(List.of(), cache, new DefaultExecutorGroup(),
        shared ? new CachedProtoResourcesSerializer() : new DefaultProtoResourcesSerializer());
    String name = "bench-" + System.nanoTime();
    Server grpc = InProcessServerBuilder.forName(name).addService(server.getAggregatedDiscoveryServiceImpl()).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();

    List<io.trellis.xds.SnapshotBuilder> builders = new ArrayList<>();
    for (int i = 0; i < proxies; i++) {
      io.trellis.xds.SnapshotBuilder builder = new io.trellis.xds.SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC);
      builders.add(builder);
      cache.setSnapshot("default.p" + i, snapshot(view(i, services, perProxy, 2).toByteArray(), shared ? builder : null));
    }
    // the changed views as they arrive from policy-service: bytes, parsed by each session. A first change
    // warms the JIT (a running server is warm); the second one is measured.
    List<byte[]> warmup = new ArrayList<>();
    List<byte[]> changed = new ArrayList<>();
    for (int i = 0; i < proxies; i++) {
      warmup.add(view(i, services, perProxy, 3).toByteArray());
      changed.add(view(i, services, perProxy, 4).toByteArray());
    }
    ConcurrentHashMap<Integer, Long> ackedAt = new ConcurrentHashMap<>();
    CountDownLatch initial = new CountDownLatch(proxies);
    CountDownLatch warmed = new CountDownLatch(proxies);
    CountDownLatch pushed = new CountDownLatch(proxies);
    java.util.concurrent.atomic.AtomicLong pushedResources = new java.util.concurrent.atomic.AtomicLong();
    for (int i = 0; i < proxies; i++) {
      Edsdone done = new Edsdone(i, initial, warmed, pushed, ackedAt, pushedResources);
      if (delta) {
        deltaClient(channel, i, services, perProxy, done);
      } else {
        client(channel, i, done);
      }
    }
    if (!initial.await(600, TimeUnit.SECONDS)) {
      throw new IllegalStateException("initial sync incomplete: " + initial.getCount());
    }
    for (int i = 0; i < proxies; i++) {
      cache.setSnapshot("default.p" + i, snapshot(warmup.get(i), shared ? builders.get(i) : null));
    }
    if (!warmed.await(600, TimeUnit.SECONDS)) {
      throw new IllegalStateException("warm-up push incomplete: " + warmed.getCount());
    }
    warmup.clear();
    System.gc();
    Thread.sleep(500);
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() - baseHeap;
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    var threads = ManagementFactory.getThreadMXBean();
    long loopCpu0 = threads.getCurrentThreadCpuTime();
    long gc0 = gcMillis();
    long t0 = System.nanoTime();
    System.err.println("push starts at " + java.time.Instant.now());
    long parseCpu = 0;
    for (int i = 0; i < proxies; i++) {
      long p0 = threads.getCurrentThreadCpuTime();
      ProxyView v = shared ? builders.get(i).decode(changed.get(i)) : ProxyView.parseFrom(changed.get(i));
      parseCpu += threads.getCurrentThreadCpuTime() - p0;
      cache.setSnapshot("default.p" + i, shared ? builders.get(i).snapshot(v, null) : naive(v));
    }
    // the control plane's own work: parse each view, translate, set the snapshot, build and serialize the
    // responses (java-control-plane responds on the thread that sets the snapshot)
    long loopCpu = threads.getCurrentThreadCpuTime() - loopCpu0;
    if (!pushed.await(600, TimeUnit.SECONDS)) {
      throw new IllegalStateException("push incomplete: " + pushed.getCount());
    }
    long cpu = os.getProcessCpuTime() - cpu0;
    long[] lat = ackedAt.values().stream().mapToLong(t -> t - t0).sorted().toArray();
    System.out.printf("mode=%s proxies=%d services=%d perProxy=%d p50=%dms p99=%dms max=%dms cpu(process)=%.2fs"
            + " cpu(control plane push)=%.2fs of which decoding the views=%.2fs gcPauses=%dms heapPerProxy=%dKB"
            + " CLAs/response=%.1f%n",
        mode, proxies, services, perProxy, ms(lat[lat.length / 2]), ms(lat[(int) (lat.length * 0.99)]), ms(lat[lat.length - 1]),
        cpu / 1e9, loopCpu / 1e9, parseCpu / 1e9, gcMillis() - gc0, heap / proxies / 1024,
        pushedResources.get() / (double) proxies);
    channel.shutdownNow();
    grpc.shutdownNow();
    System.exit(0);
  }

  static long gcMillis() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
  }

  static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  // Kuma 2.x creates these default policies with every mesh (mesh-timeout-all-default,
  // mesh-retry-all-default, mesh-circuit-breaker-all-default), so every outbound of a real view carries them.
  static final io.trellis.api.policy.v1.PolicyRules DEFAULT_TIMEOUT = Views.rules("MeshTimeout", Views.conf(
      "{\"connectionTimeout\":\"5s\",\"idleTimeout\":\"1h\",\"http\":{\"requestTimeout\":\"15s\",\"streamIdleTimeout\":\"30m\"}}"));
  static final io.trellis.api.policy.v1.PolicyRules DEFAULT_RETRY = Views.rules("MeshRetry", Views.conf(
      "{\"tcp\":{\"maxConnectAttempt\":5},\"http\":{\"numRetries\":5,\"perTryTimeout\":\"16s\","
          + "\"backOff\":{\"baseInterval\":\"25ms\",\"maxInterval\":\"250ms\"}}}"));
  static final io.trellis.api.policy.v1.PolicyRules DEFAULT_CIRCUIT_BREAKER = Views.rules("MeshCircuitBreaker", Views.conf(
      "{\"connectionLimits\":{\"maxConnections\":1024,\"maxPendingRequests\":1024,\"maxRequests\":1024,\"maxRetries\":3},"
          + "\"outlierDetection\":{\"disabled\":false,\"interval\":\"10s\",\"baseEjectionTime\":\"30s\",\"maxEjectionPercent\":20,"
          + "\"detectors\":{\"totalFailures\":{\"consecutive\":5}}}}"));

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
      b.outbound("svc-" + s, "http", "127.0.0.1", 20000 + k, eps)
          .outboundRules(DEFAULT_TIMEOUT, DEFAULT_RETRY, DEFAULT_CIRCUIT_BREAKER);
    }
    return b.inboundRules(8080, DEFAULT_TIMEOUT).build();
  }

  static io.envoyproxy.controlplane.cache.v3.Snapshot snapshot(byte[] view, io.trellis.xds.SnapshotBuilder shared)
      throws com.google.protobuf.InvalidProtocolBufferException {
    return shared != null ? shared.snapshot(shared.decode(view), null) : naive(ProxyView.parseFrom(view));
  }

  /** Full translation, every resource map and version computed anew (java-control-plane's Snapshot.create). */
  static io.envoyproxy.controlplane.cache.v3.Snapshot naive(ProxyView v) {
    XdsResources r = ProxyTranslator.translate(ProxyInput.of(v, ProxyInput.ClientKind.ENVOY, Views.CODEC), null);
    return io.trellis.xds.BenchAccess.snapshot(r);
  }

  /** Counts a proxy's EDS responses: the first is the initial sync, the second the warm-up, the third the push. */
  record Edsdone(int proxy, CountDownLatch initial, CountDownLatch warmed, CountDownLatch pushed,
      ConcurrentHashMap<Integer, Long> ackedAt, java.util.concurrent.atomic.AtomicLong pushedResources) {
    void received(int eds, int resources) {
      if (eds == 1) {
        initial.countDown();
      } else if (eds == 2) {
        warmed.countDown();
      } else if (ackedAt.putIfAbsent(proxy, System.nanoTime()) == null) {
        pushedResources.addAndGet(resources);
        pushed.countDown();
      }
    }
  }

  /** A state-of-the-world ADS client: ACKs every response with its version and nonce. */
  static void client(ManagedChannel channel, int i, Edsdone done) {
    Node node = Node.newBuilder().setId("default.p" + i).build();
    StreamObserver<DiscoveryRequest>[] req = new StreamObserver[1];
    req[0] = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      int eds;

      @Override
      public void onNext(DiscoveryResponse r) {
        synchronized (req) {
          req[0].onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
              .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).build());
        }
        if (r.getTypeUrl().equals(Resources.V3.ENDPOINT_TYPE_URL)) {
          done.received(++eds, r.getResourcesCount());
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

  /**
   * An incremental (delta) ADS client subscribed to the ClusterLoadAssignments of its outbounds (EDS has no
   * wildcard subscription in delta xDS): ACKs every response with its nonce.
   */
  static void deltaClient(ManagedChannel channel, int i, int services, int perProxy, Edsdone done) {
    Node node = Node.newBuilder().setId("default.p" + i).build();
    StreamObserver<DeltaDiscoveryRequest>[] req = new StreamObserver[1];
    req[0] = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(new StreamObserver<>() {
      int eds;

      @Override
      public void onNext(DeltaDiscoveryResponse r) {
        synchronized (req) {
          req[0].onNext(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
              .setResponseNonce(r.getNonce()).build());
        }
        if (r.getTypeUrl().equals(Resources.V3.ENDPOINT_TYPE_URL)) {
          done.received(++eds, r.getResourcesCount());
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
      req[0].onNext(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(Resources.V3.ENDPOINT_TYPE_URL)
          .addAllResourceNamesSubscribe(view(i, services, perProxy, 2).getOutboundsList().stream()
              .map(io.trellis.api.policy.v1.OutboundView::getService).distinct().toList())
          .build());
    }
  }
}
