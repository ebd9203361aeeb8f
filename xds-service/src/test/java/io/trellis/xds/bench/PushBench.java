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
 * per EDS response of the measured push, and the push's CPU by side: the view pool (one thread per core, the
 * threads views arrive on, as from policy-service's WatchProxy streams in production: decode, translate,
 * setSnapshot, java-control-plane's responses), the ADS server's pool (one thread per core: the clients' ACKs
 * and new watches), the simulated clients' pool (the load driver, not the product), JIT compiler and GC
 * threads. Not a test: run with bench/run.sh.
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
    // Three thread pools, as many threads as cores each, so the CPU of each side can be told apart: the ADS
    // server's (java-control-plane handling the clients' requests: in production Vert.x event loops, one
    // per core), the simulated clients' (the load driver, other processes in production), and the one the
    // views arrive on (production: policy-service's WatchProxy streams, delivered on gRPC's executor).
    int cores = Runtime.getRuntime().availableProcessors();
    java.util.concurrent.ExecutorService serverPool = pool("ads-server", cores);
    java.util.concurrent.ExecutorService clientPool = pool("sim-client", cores);
    java.util.concurrent.ExecutorService viewPool = pool("view-arrival", cores);
    Server grpc = InProcessServerBuilder.forName(name).executor(serverPool)
        .addService(server.getAggregatedDiscoveryServiceImpl()).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).executor(clientPool).build();

    List<io.trellis.xds.SnapshotBuilder> builders = new ArrayList<>();
    for (int i = 0; i < proxies; i++) {
      io.trellis.xds.SnapshotBuilder builder = new io.trellis.xds.SnapshotBuilder(ProxyInput.ClientKind.ENVOY, Views.CODEC);
      builders.add(builder);
      cache.setSnapshot("default.p" + i, snapshot(view(i, services, perProxy, 2).toByteArray(), shared ? builder : null));
    }
    // the changed views as they arrive from policy-service: bytes, parsed by each session. Warm-up changes
    // (-Dwarmups, default 5) come first, so the JIT has compiled the push path as in a running server (with
    // one round of 10,000 proxies, C2 was still compiling the push path through the measured push, ~0.6 s of
    // CPU; with 3, ~0.4 s; with 8, ~0.2 s); the last change is measured.
    int warmups = Integer.getInteger("warmups", 5);
    CountDownLatch[] rounds = new CountDownLatch[warmups + 2]; // initial sync, warm-ups, measured push
    long[][] ackedAt = new long[rounds.length][proxies];
    java.util.concurrent.atomic.AtomicLong[] resources = new java.util.concurrent.atomic.AtomicLong[rounds.length];
    for (int r = 0; r < rounds.length; r++) {
      rounds[r] = new CountDownLatch(proxies);
      resources[r] = new java.util.concurrent.atomic.AtomicLong();
    }
    CountDownLatch pushed = rounds[rounds.length - 1];
    for (int i = 0; i < proxies; i++) {
      Edsdone done = new Edsdone(i, rounds, ackedAt, resources);
      if (delta) {
        deltaClient(channel, i, services, perProxy, done);
      } else {
        client(channel, i, done);
      }
    }
    await(rounds[0], "initial sync");
    java.util.concurrent.atomic.AtomicLong parseCpu = new java.util.concurrent.atomic.AtomicLong();
    for (int w = 1; w <= warmups; w++) {
      push(viewPool, views(proxies, services, perProxy, 2 + w), builders, cache, shared, parseCpu);
      await(rounds[w], "warm-up push " + w);
    }
    List<byte[]> changed = views(proxies, services, perProxy, 3 + warmups);
    System.gc();
    Thread.sleep(500);
    System.gc();
    // let the JIT finish what the warm-ups queued (a running server's JIT is idle between changes)
    var jit = ManagementFactory.getCompilationMXBean();
    for (int i = 0; i < 20; i++) {
      long compiled = jit.getTotalCompilationTime();
      Thread.sleep(500);
      if (jit.getTotalCompilationTime() == compiled) {
        break;
      }
    }
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() - baseHeap;
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    java.util.Map<String, Long> byPool0 = cpuByPool();
    long gc0 = gcMillis();
    parseCpu.set(0);
    long t0 = System.nanoTime();
    System.err.println("push starts at " + java.time.Instant.now() + " (JVM uptime " + ManagementFactory.getRuntimeMXBean().getUptime() + " ms)");
    push(viewPool, changed, builders, cache, shared, parseCpu);
    await(pushed, "push");
    long cpu = os.getProcessCpuTime() - cpu0;
    java.util.Map<String, Long> byPool = cpuByPool();
    byPool.replaceAll((pool, ns) -> ns - byPool0.getOrDefault(pool, 0L));
    // the control plane's own work: parse each view, translate, set the snapshot, build and serialize the
    // responses (java-control-plane responds on the thread that sets the snapshot)
    System.err.println("thread CPU during the push, by pool (ms): " + byPool.entrySet().stream().filter(e -> e.getValue() > 0)
        .map(e -> e.getKey() + "=" + e.getValue() / 1_000_000).sorted().toList());
    long loopCpu = byPool.getOrDefault("view-arrival", 0L);
    long serverCpu = byPool.getOrDefault("ads-server", 0L);
    long clientCpu = byPool.getOrDefault("sim-client", 0L);
    long jitCpu = sum(byPool, "C1 ", "C2 ");
    long gcCpu = sum(byPool, "G1 ", "GC Thread", "VM Thread");
    long[] lat = java.util.Arrays.stream(ackedAt[rounds.length - 1]).map(t -> t - t0).sorted().toArray();
    System.out.printf("mode=%s proxies=%d services=%d perProxy=%d p50=%dms p99=%dms max=%dms cpu(process)=%.2fs"
            + " cpu(control plane push)=%.2fs of which decoding the views=%.2fs gcPauses=%dms heapPerProxy=%dKB"
            + " CLAs/response=%.1f cpu(ads server: requests/ACKs)=%.2fs cpu(simulated clients)=%.2fs"
            + " cpu(JIT compiler)=%.2fs cpu(GC)=%.2fs cpu(rest)=%.2fs%n",
        mode, proxies, services, perProxy, ms(lat[lat.length / 2]), ms(lat[(int) (lat.length * 0.99)]), ms(lat[lat.length - 1]),
        cpu / 1e9, loopCpu / 1e9, parseCpu.get() / 1e9, gcMillis() - gc0, heap / proxies / 1024,
        resources[rounds.length - 1].get() / (double) proxies, serverCpu / 1e9, clientCpu / 1e9,
        jitCpu / 1e9, gcCpu / 1e9, (cpu - loopCpu - serverCpu - clientCpu - jitCpu - gcCpu) / 1e9);
    channel.shutdownNow();
    grpc.shutdownNow();
    System.exit(0);
  }

  static List<byte[]> views(int proxies, int services, int perProxy, int endpointsOfService0) {
    List<byte[]> out = new ArrayList<>(proxies);
    for (int i = 0; i < proxies; i++) {
      out.add(view(i, services, perProxy, endpointsOfService0).toByteArray());
    }
    return out;
  }

  /**
   * Each proxy's new view arrives as one task on the view pool (as from its own WatchProxy stream): the
   * session decodes it, translates and sets the snapshot, and java-control-plane responds on that thread.
   */
  static void push(java.util.concurrent.ExecutorService viewPool, List<byte[]> views,
      List<io.trellis.xds.SnapshotBuilder> builders, SimpleCache<String> cache, boolean shared,
      java.util.concurrent.atomic.AtomicLong parseCpu) {
    var threads = ManagementFactory.getThreadMXBean();
    for (int i = 0; i < views.size(); i++) {
      int proxy = i;
      viewPool.execute(() -> {
        try {
          long p0 = threads.getCurrentThreadCpuTime();
          ProxyView v = shared ? builders.get(proxy).decode(views.get(proxy)) : ProxyView.parseFrom(views.get(proxy));
          parseCpu.addAndGet(threads.getCurrentThreadCpuTime() - p0);
          cache.setSnapshot("default.p" + proxy, shared ? builders.get(proxy).snapshot(v, null) : naive(v));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      });
    }
  }

  static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(600, TimeUnit.SECONDS)) {
      throw new IllegalStateException(what + " incomplete: " + latch.getCount() + " proxies missing");
    }
  }

  static java.util.concurrent.ExecutorService pool(String name, int threads) {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    return java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * CPU time (user + system) of the process's threads, summed by pool (thread name without its number), JVM
   * threads included (GC, JIT compiler): read from /proc/self/task (Linux), in clock ticks of 10 ms.
   */
  static java.util.Map<String, Long> cpuByPool() {
    java.util.Map<String, Long> out = new java.util.HashMap<>();
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    if (tasks == null) {
      return out;
    }
    for (java.io.File task : tasks) {
      try {
        String stat = java.nio.file.Files.readString(task.toPath().resolve("stat"));
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        out.merge(comm.replaceAll("[-#]?\\d+$", "").trim(), ticks * 10_000_000L, Long::sum);
      } catch (java.io.IOException | RuntimeException gone) {
        // the thread ended meanwhile
      }
    }
    return out;
  }

  static long sum(java.util.Map<String, Long> byPool, String... prefixes) {
    return byPool.entrySet().stream().filter(e -> java.util.Arrays.stream(prefixes).anyMatch(e.getKey()::startsWith))
        .mapToLong(java.util.Map.Entry::getValue).sum();
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

  /**
   * Counts a proxy's EDS responses: the first is the initial sync, then the warm-ups, then the measured push.
   * Every round takes the same path (so the JIT does not recompile the client for the measured one).
   */
  record Edsdone(int proxy, CountDownLatch[] rounds, long[][] ackedAt, java.util.concurrent.atomic.AtomicLong[] resources) {
    void received(int eds, int count) {
      if (eds <= rounds.length) {
        ackedAt[eds - 1][proxy] = System.nanoTime();
        resources[eds - 1].addAndGet(count);
        rounds[eds - 1].countDown();
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
