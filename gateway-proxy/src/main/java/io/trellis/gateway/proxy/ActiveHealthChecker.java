package io.trellis.gateway.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.trellis.gateway.Transports;
import io.trellis.gateway.config.EndpointHealth;
import io.trellis.gateway.config.HealthCheckSpec;
import io.trellis.gateway.config.UpstreamCluster;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Envoy-style active health checking (MeshHealthCheck): one probe per (cluster, endpoint) with a check, on the
 * data plane's event loops, never two at once for the same endpoint. Probes go over the cluster's own transport
 * (mTLS to mesh services, as Envoy's checks do) and report to {@link EndpointHealth}, which load balancing reads.
 * A new configuration keeps the probes whose check did not change (so their history counts) and stops the others.
 */
final class ActiveHealthChecker implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ActiveHealthChecker.class);

  private record Key(String cluster, InetSocketAddress endpoint) {}

  private final EventLoopGroup group;
  private final EndpointHealth health;
  private final Map<Key, Probe> probes = new HashMap<>();
  private boolean closed;

  ActiveHealthChecker(EventLoopGroup group, EndpointHealth health) {
    this.group = group;
    this.health = health;
  }

  synchronized void configure(Collection<UpstreamCluster> clusters) {
    if (closed) {
      return;
    }
    Map<Key, UpstreamCluster> wanted = new HashMap<>();
    for (UpstreamCluster c : clusters) {
      if (c.healthCheck() != null) {
        for (InetSocketAddress e : c.endpoints()) {
          if (!e.isUnresolved()) {
            wanted.put(new Key(c.name(), e), c);
          }
        }
      }
    }
    for (Iterator<Map.Entry<Key, Probe>> it = probes.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Key, Probe> e = it.next();
      UpstreamCluster c = wanted.get(e.getKey());
      if (c == null || !c.healthCheck().signature().equals(e.getValue().signature)) {
        e.getValue().stop();
        it.remove();
        health.uncheck(e.getKey().endpoint());
      } else {
        e.getValue().cluster = c; // new TLS material, same check
      }
    }
    wanted.forEach((k, c) -> probes.computeIfAbsent(k, x -> new Probe(c, k.endpoint())).start());
  }

  @Override
  public synchronized void close() {
    closed = true;
    probes.values().forEach(Probe::stop);
    probes.clear();
  }

  private final class Probe {
    final String signature;
    final InetSocketAddress endpoint;
    final EventLoop loop = group.next();
    volatile UpstreamCluster cluster;
    volatile boolean stopped;
    boolean started;
    ScheduledFuture<?> next;

    Probe(UpstreamCluster cluster, InetSocketAddress endpoint) {
      this.cluster = cluster;
      this.endpoint = endpoint;
      this.signature = cluster.healthCheck().signature();
    }

    void start() {
      if (!started) {
        started = true;
        loop.execute(this::run);
      }
    }

    void stop() {
      stopped = true;
      loop.execute(() -> {
        if (next != null) {
          next.cancel(false);
        }
      });
    }

    /** One check; the next one is scheduled when this one has a result, so checks never overlap. */
    void run() {
      if (stopped) {
        return;
      }
      UpstreamCluster c = cluster;
      HealthCheckSpec spec = c.healthCheck();
      Attempt attempt = new Attempt(this, spec);
      ChannelFuture cf = new Bootstrap().group(loop).channel(Transports.clientChannel())
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, spec.timeoutMillis()))
          .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
          .handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              io.netty.handler.ssl.SslHandler ssl = c.newTlsHandler(ch.alloc(), endpoint);
              if (ssl != null) {
                ch.pipeline().addLast(ssl);
              }
              if (spec.http() != null) {
                ch.pipeline().addLast(new HttpClientCodec());
              }
              ch.pipeline().addLast(attempt);
            }
          })
          .connect(endpoint);
      attempt.channel = cf.channel();
      cf.addListener(f -> {
        if (!f.isSuccess()) {
          attempt.done(false, f.cause() == null ? "connect failed" : f.cause().toString());
        }
      });
      attempt.timeout = loop.schedule(() -> attempt.done(false, "timed out after " + spec.timeoutMillis() + "ms"),
          spec.timeoutMillis(), TimeUnit.MILLISECONDS);
    }

    void finished(HealthCheckSpec spec, boolean ok, String why) {
      if (stopped) {
        return;
      }
      if (!ok) {
        LOG.debugf("health check of %s in %s failed: %s", endpoint, cluster.name(), why);
      }
      health.checked(endpoint, ok, spec.unhealthyThreshold(), spec.healthyThreshold());
      next = loop.schedule(this::run, spec.intervalMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** One probe connection: writes the request (HTTP) or payload (TCP) once connected, judges the answer. */
  private static final class Attempt extends ChannelInboundHandlerAdapter {
    final Probe probe;
    final HealthCheckSpec spec;
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    Channel channel;
    ScheduledFuture<?> timeout;
    boolean done;

    Attempt(Probe probe, HealthCheckSpec spec) {
      this.probe = probe;
      this.spec = spec;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      // with TLS this runs before the handshake; writes wait for it inside the SslHandler
      if (spec.http() != null) {
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
            spec.http().path(), Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, spec.http().host())
            .set(HttpHeaderNames.USER_AGENT, "trellis-gateway/health-check")
            .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(req);
      } else {
        if (spec.tcp().send().length > 0) {
          ctx.writeAndFlush(Unpooled.wrappedBuffer(spec.tcp().send()));
        }
        if (spec.tcp().receive().isEmpty()) {
          done(true, null);
        }
      }
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse r) {
          int status = r.status().code();
          done(spec.http().expected(status), "status " + status);
        } else if (msg instanceof ByteBuf b && spec.tcp() != null) {
          byte[] bytes = ByteBufUtil.getBytes(b);
          received.write(bytes, 0, bytes.length);
          if (spec.tcp().receive().stream().allMatch(block -> contains(received.toByteArray(), block))) {
            done(true, null);
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done(false, "connection closed before an answer");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      done(false, cause.toString());
    }

    void done(boolean ok, String why) {
      if (done) {
        return;
      }
      done = true;
      if (timeout != null) {
        timeout.cancel(false);
      }
      if (channel != null) {
        channel.close();
      }
      probe.finished(spec, ok, why);
    }

    static boolean contains(byte[] haystack, byte[] needle) {
      outer:
      for (int i = 0; i + needle.length <= haystack.length; i++) {
        for (int j = 0; j < needle.length; j++) {
          if (haystack[i + j] != needle[j]) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    }
  }
}
