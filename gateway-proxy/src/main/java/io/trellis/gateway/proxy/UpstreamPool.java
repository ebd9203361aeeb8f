package io.trellis.gateway.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Promise;
import io.trellis.gateway.Transports;
import io.trellis.gateway.config.UpstreamCluster;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one idle set per event loop so a downstream
 * connection and its upstream share a thread and never lock. Idle connections close after 60 s: a sweep
 * per event loop (every {@link #SWEEP_SECONDS} s while anything is idle) instead of a timer handler in every
 * upstream pipeline, so a request costs no timer or promise bookkeeping.
 */
final class UpstreamPool {
  private static final int MAX_IDLE_PER_ENDPOINT = 128;
  static final long IDLE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final long SWEEP_SECONDS = 10;
  private static final FastThreadLocal<Idle> IDLE = new FastThreadLocal<>() {
    @Override
    protected Idle initialValue() {
      return new Idle();
    }
  };

  /** The idle connections of one event loop. */
  private static final class Idle {
    final Map<Key, ArrayDeque<Channel>> byKey = new HashMap<>();
    boolean sweeping;

    void sweep(EventLoop loop) {
      long now = System.nanoTime();
      boolean any = false;
      for (Iterator<ArrayDeque<Channel>> it = byKey.values().iterator(); it.hasNext(); ) {
        ArrayDeque<Channel> q = it.next();
        // Oldest first: connections are returned at the tail and reused from the tail.
        for (Channel ch = q.peekFirst(); ch != null; ch = q.peekFirst()) {
          UpstreamHandler h = ch.pipeline().get(UpstreamHandler.class);
          if (h != null && ch.isActive() && now - h.idleSince < IDLE_TIMEOUT_NANOS) {
            break;
          }
          q.pollFirst();
          ch.close();
        }
        if (q.isEmpty()) {
          it.remove();
        } else {
          any = true;
        }
      }
      sweeping = any;
      if (any) {
        loop.schedule(() -> sweep(loop), SWEEP_SECONDS, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Which connections are interchangeable. The TLS context is part of the key: a config swap with new
   * certificates does not reuse old sessions. The hash is computed once (a key lives as long as an exchange's
   * choice of endpoint, and as long as each pooled connection).
   */
  static final class Key {
    final InetSocketAddress endpoint;
    final SslContext tls;
    final String sni;
    /** Connections without an HTTP codec, for the fast path's raw exchanges ({@link RawResponse}). */
    final boolean raw;
    private final int hash;

    Key(InetSocketAddress endpoint, SslContext tls, String sni, boolean raw) {
      this.endpoint = endpoint;
      this.tls = tls;
      this.sni = sni;
      this.raw = raw;
      this.hash = Objects.hash(endpoint, System.identityHashCode(tls), sni, raw);
    }

    /** The key for {@code cluster}'s {@code endpoint}: this one if it already is. */
    Key with(UpstreamCluster cluster, InetSocketAddress endpoint, boolean raw) {
      return this.endpoint.equals(endpoint) && tls == cluster.tls() && Objects.equals(sni, cluster.sni())
          && this.raw == raw ? this : new Key(endpoint, cluster.tls(), cluster.sni(), raw);
    }

    @Override
    public boolean equals(Object o) {
      return o == this || o instanceof Key k && hash == k.hash && endpoint.equals(k.endpoint) && tls == k.tls
          && Objects.equals(sni, k.sni) && raw == k.raw;
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private UpstreamPool() {}

  /** An idle connection for {@code key} on this event loop, now owned by {@code owner}; or null. */
  static Channel reuse(Key key, UpstreamListener owner) {
    ArrayDeque<Channel> idle = IDLE.get().byKey.get(key);
    if (idle != null) {
      for (Channel ch = idle.pollLast(); ch != null; ch = idle.pollLast()) {
        if (ch.isActive()) {
          ch.pipeline().get(UpstreamHandler.class).owner = owner;
          return ch;
        }
      }
    }
    return null;
  }

  /** A new connection; calls back on {@code loop} with it connected (and, for mTLS, handshaken). */
  static Promise<Channel> connect(EventLoop loop, UpstreamCluster cluster, Key key, UpstreamListener owner) {
    InetSocketAddress endpoint = key.endpoint;
    Promise<Channel> promise = loop.newPromise();
    UpstreamHandler handler = new UpstreamHandler(key);
    handler.owner = owner;
    ChannelFuture cf = new Bootstrap().group(loop).channel(Transports.clientChannel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, Math.max(1, cluster.connectTimeoutMs())))
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            io.netty.handler.ssl.SslHandler ssl = cluster.newTlsHandler(ch.alloc(), endpoint);
            if (ssl != null) {
              ch.pipeline().addLast("ssl", ssl);
            }
            if (!key.raw) {
              ch.pipeline().addLast("http", new HttpClientCodec(4096, 65536, 65536));
            }
            ch.pipeline().addLast("upstream", handler);
          }
        })
        .connect(endpoint);
    cf.addListener(f -> {
      if (!f.isSuccess()) {
        promise.tryFailure(f.cause());
        return;
      }
      SslHandler ssl = cf.channel().pipeline().get(SslHandler.class);
      if (ssl == null) {
        promise.trySuccess(cf.channel());
      } else {
        ssl.handshakeFuture().addListener(h -> {
          if (h.isSuccess()) {
            promise.trySuccess(cf.channel());
          } else {
            cf.channel().close();
            promise.tryFailure(h.cause());
          }
        });
      }
    });
    return promise;
  }

  /** Returns a connection whose last exchange completed cleanly. */
  static void release(Channel ch) {
    UpstreamHandler h = ch.pipeline().get(UpstreamHandler.class);
    if (h == null || !ch.isActive()) {
      ch.close();
      return;
    }
    h.owner = null;
    Idle pool = IDLE.get();
    ArrayDeque<Channel> idle = pool.byKey.computeIfAbsent(h.key, k -> new ArrayDeque<>());
    if (idle.size() >= MAX_IDLE_PER_ENDPOINT) {
      ch.close();
      return;
    }
    h.idleSince = System.nanoTime();
    idle.addLast(ch);
    if (!pool.sweeping) {
      pool.sweeping = true;
      EventLoop loop = ch.eventLoop();
      loop.schedule(() -> pool.sweep(loop), SWEEP_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** What the upstream connection reports to the exchange using it. */
  interface UpstreamListener {
    void upstreamRead(Object msg);

    void upstreamReadComplete();

    void upstreamClosed();

    void upstreamWritabilityChanged();
  }

  static final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    final Key key;
    UpstreamListener owner;
    long idleSince;

    UpstreamHandler(Key key) {
      this.key = key;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (owner != null) {
        owner.upstreamRead(msg);
      } else {
        // Bytes on an idle connection: the upstream is confused; do not reuse it.
        ReferenceCountUtil.release(msg);
        ctx.close();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (owner != null) {
        owner.upstreamReadComplete();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      ArrayDeque<Channel> idle = IDLE.get().byKey.get(key);
      if (idle != null) {
        idle.remove(ctx.channel());
      }
      UpstreamListener o = owner;
      owner = null;
      if (o != null) {
        o.upstreamClosed();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (owner != null) {
        owner.upstreamWritabilityChanged();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
