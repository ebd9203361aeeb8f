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
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Promise;
import io.trellis.gateway.Transports;
import io.trellis.gateway.config.UpstreamCluster;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one idle set per event loop so a downstream
 * connection and its upstream share a thread and never lock. Idle connections close after 60 s.
 */
final class UpstreamPool {
  private static final int MAX_IDLE_PER_ENDPOINT = 128;
  private static final FastThreadLocal<Map<Key, ArrayDeque<Channel>>> IDLE = new FastThreadLocal<>() {
    @Override
    protected Map<Key, ArrayDeque<Channel>> initialValue() {
      return new HashMap<>();
    }
  };

  /** The TLS context is part of the key: a config swap with new certificates does not reuse old sessions. */
  record Key(InetSocketAddress endpoint, SslContext tls, String sni) {}

  private UpstreamPool() {}

  /** Calls back on {@code loop} with a connected (and, for mTLS, handshaken) channel. */
  static Promise<Channel> acquire(EventLoop loop, UpstreamCluster cluster, InetSocketAddress endpoint,
      UpstreamListener owner, boolean[] reused) {
    Key key = new Key(endpoint, cluster.tls(), cluster.sni());
    Promise<Channel> promise = loop.newPromise();
    ArrayDeque<Channel> idle = IDLE.get().get(key);
    if (idle != null) {
      for (Channel ch = idle.pollLast(); ch != null; ch = idle.pollLast()) {
        if (ch.isActive()) {
          ch.pipeline().get(UpstreamHandler.class).owner = owner;
          reused[0] = true;
          return promise.setSuccess(ch);
        }
      }
    }
    reused[0] = false;
    UpstreamHandler handler = new UpstreamHandler(key);
    handler.owner = owner;
    ChannelFuture cf = new Bootstrap().group(loop).channel(Transports.clientChannel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, Math.max(1, cluster.connectTimeoutMs())))
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (cluster.tls() != null) {
              String host = cluster.sni() != null ? cluster.sni() : endpoint.getHostString();
              ch.pipeline().addLast("ssl", cluster.tls().newHandler(ch.alloc(), host, endpoint.getPort()));
            }
            ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, 60));
            ch.pipeline().addLast("http", new HttpClientCodec(4096, 65536, 65536));
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
    ArrayDeque<Channel> idle = IDLE.get().computeIfAbsent(h.key, k -> new ArrayDeque<>());
    if (idle.size() >= MAX_IDLE_PER_ENDPOINT) {
      ch.close();
      return;
    }
    idle.addLast(ch);
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
      ArrayDeque<Channel> idle = IDLE.get().get(key);
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent && owner == null) {
        ctx.close();
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
