package io.trellis.gateway.proxy;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.AttributeKey;
import io.trellis.gateway.Transports;
import io.trellis.gateway.config.EndpointHealth;
import io.trellis.gateway.config.GatewayConfig;
import io.trellis.gateway.config.ListenerSpec;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * The running proxy: binds a port per Listener and swaps the whole {@link GatewayConfig} atomically.
 * Connections and requests read the current snapshot when they start, so in-flight requests finish on the
 * configuration they began with; a reload never closes accepted connections (a removed listener only
 * stops accepting).
 */
public final class DataPlane implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DataPlane.class);
  static final AttributeKey<String> LISTENER = AttributeKey.valueOf("trellis.listener");

  /** Tunables that do not come from xDS. */
  public record Options(int eventLoopThreads, long maxRequestBytes, boolean accessLog, String upstreamIdentity) {
    public static Options defaults() {
      return new Options(0, 64L * 1024 * 1024, true, null);
    }
  }

  private final Options options;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final AtomicReference<GatewayConfig> config = new AtomicReference<>(GatewayConfig.EMPTY);
  private final Map<String, Bound> bound = new HashMap<>();
  private final EndpointHealth health;
  private final GatewayMetrics metrics;
  private final ActiveHealthChecker checker;
  private volatile boolean configured;

  private record Bound(String host, int port, Channel channel) {}

  public DataPlane(Options options, MeterRegistry registry) {
    this.options = Objects.requireNonNull(options, "options");
    int threads = options.eventLoopThreads() > 0 ? options.eventLoopThreads() : Runtime.getRuntime().availableProcessors();
    this.boss = Transports.group(1);
    this.workers = Transports.group(threads);
    this.metrics = new GatewayMetrics(registry);
    this.health = new EndpointHealth(5, 30_000, workers, System::currentTimeMillis);
    this.checker = new ActiveHealthChecker(workers, health);
  }

  public GatewayConfig config() {
    return config.get();
  }

  /** True once a configuration from the control plane is in effect. */
  public boolean ready() {
    return configured;
  }

  public Options options() {
    return options;
  }

  EndpointHealth health() {
    return health;
  }

  GatewayMetrics metrics() {
    return metrics;
  }

  EventLoopGroup workers() {
    return workers;
  }

  /**
   * Binds new listeners, then swaps the configuration, then stops accepting on listeners that went away.
   * If a port cannot be bound nothing changes and the exception says which listener failed.
   */
  public synchronized void apply(GatewayConfig next) {
    Map<String, Bound> added = new HashMap<>();
    try {
      for (ListenerSpec l : next.listeners().values()) {
        Bound b = bound.get(l.name());
        if (b != null && b.host().equals(l.host()) && b.port() == l.port()) {
          continue;
        }
        added.put(l.name(), bind(l));
      }
    } catch (RuntimeException e) {
      added.values().forEach(b -> b.channel().close());
      throw e;
    }
    health.configure(next.clusters().values());
    checker.configure(next.clusters().values());
    config.set(next);
    configured = true;
    for (Iterator<Map.Entry<String, Bound>> it = bound.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Bound> e = it.next();
      ListenerSpec l = next.listeners().get(e.getKey());
      if (l == null || added.containsKey(e.getKey())) {
        e.getValue().channel().close();
        it.remove();
      }
    }
    bound.putAll(added);
  }

  /** Swaps the configuration without binding anything: handler tests drive channels directly. */
  void swapUnbound(GatewayConfig next) {
    health.configure(next.clusters().values());
    config.set(next);
    configured = true;
  }

  private Bound bind(ListenerSpec l) {
    try {
      Channel ch = new ServerBootstrap()
          .group(boss, workers)
          .channel(Transports.serverChannel())
          .option(ChannelOption.SO_BACKLOG, 4096)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childAttr(LISTENER, l.name())
          .childHandler(new ConnectionInitializer(this, l.name()))
          .bind(l.host(), l.port()).sync().channel();
      LOG.infof("listener %s bound on %s:%d", l.name(), l.host(), l.port());
      return new Bound(l.host(), l.port(), ch);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Listener " + l.name() + ": interrupted while binding");
    } catch (Exception e) {
      throw new IllegalArgumentException("Listener " + l.name() + ".address: " + l.host() + ":" + l.port()
          + " cannot be bound (" + e.getMessage() + ")");
    }
  }

  /** The bound address of a listener (tests bind to free ports chosen up front). */
  public synchronized InetSocketAddress address(String listener) {
    Bound b = bound.get(listener);
    return b == null ? null : (InetSocketAddress) b.channel().localAddress();
  }

  @Override
  public synchronized void close() {
    checker.close();
    health.close();
    bound.values().forEach(b -> b.channel().close().syncUninterruptibly());
    bound.clear();
    boss.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
