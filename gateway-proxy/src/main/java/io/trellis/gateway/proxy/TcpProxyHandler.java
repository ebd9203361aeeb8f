package io.trellis.gateway.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.trellis.gateway.Transports;
import io.trellis.gateway.config.EndpointHealth;
import io.trellis.gateway.config.FilterChainSpec;
import io.trellis.gateway.config.RbacSpec;
import io.trellis.gateway.config.UpstreamCluster;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * tcp_proxy: splices bytes between the downstream connection and an endpoint of the chosen cluster. Used
 * for SNI passthrough (the ClientHello is replayed untouched, so the client talks TLS to the backend) and
 * for PostgreSQL passthrough, where the SSLRequest answered earlier is replayed to the backend and the
 * backend's one-byte answer is consumed before splicing.
 */
final class TcpProxyHandler extends ChannelInboundHandlerAdapter {
  private final DataPlane dp;
  private final String listener;
  private final FilterChainSpec.TcpSpec tcp;
  private final boolean pg;
  private final List<Object> pending = new ArrayList<>();
  private ChannelHandlerContext ctx;
  private Channel upstream;
  private boolean ready;
  private InetSocketAddress endpoint;

  TcpProxyHandler(DataPlane dp, String listener, FilterChainSpec.TcpSpec tcp, boolean pg) {
    this.dp = dp;
    this.listener = listener;
    this.tcp = tcp;
    this.pg = pg;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ctx.channel().config().setAutoRead(false);
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.handshakeFuture().addListener(f -> {
        if (f.isSuccess()) {
          start(HttpPipelines.peer(ctx.channel()));
        } else {
          ctx.close();
        }
      });
    } else if (ctx.channel().isActive()) {
      start(RbacSpec.Peer.ANONYMOUS);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (ctx.pipeline().get(SslHandler.class) == null && upstream == null) {
      start(RbacSpec.Peer.ANONYMOUS);
    }
    ctx.fireChannelActive();
  }

  private void start(RbacSpec.Peer peer) {
    if (upstream != null) {
      return;
    }
    if (tcp.rbac() != null && !tcp.rbac().permits(peer)) {
      // Network RBAC denies by closing the connection, as Envoy does.
      ctx.close();
      return;
    }
    if (tcp.connectionRate() != null && !tcp.connectionRate().tryTake(System.nanoTime())) {
      // MeshRateLimit tcp.connectionRate: Envoy's network local_ratelimit closes the connection at once
      dp.metrics().rateLimited(listener, "connection");
      ctx.close();
      return;
    }
    UpstreamCluster cluster = dp.config().clusters().get(tcp.pickCluster());
    endpoint = cluster == null ? null : cluster.pick(dp.health(), null);
    if (endpoint == null) {
      ctx.close();
      return;
    }
    if (!cluster.tryAcquire()) {
      // circuit breaker (max_connections): Envoy's tcp_proxy closes the downstream on overflow
      dp.metrics().overflow(cluster.name());
      ctx.close();
      return;
    }
    dp.health().started(endpoint);
    ChannelFuture cf = new Bootstrap().group(ctx.channel().eventLoop()).channel(Transports.clientChannel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE, cluster.connectTimeoutMs())))
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, false)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            SslHandler ssl = cluster.newTlsHandler(ch.alloc(), endpoint);
            if (ssl != null) {
              ch.pipeline().addLast(ssl);
            }
            if (pg) {
              ch.pipeline().addLast("pg", new PgSslAnswer());
            }
            ch.pipeline().addLast("relay", new Relay());
          }
        })
        .connect(endpoint);
    upstream = cf.channel();
    cf.addListener(f -> {
      if (!f.isSuccess()) {
        dp.health().localFailure(endpoint, EndpointHealth.LocalOrigin.CONNECT_FAILED);
        ctx.close();
        return;
      }
      SslHandler ssl = upstream.pipeline().get(SslHandler.class);
      if (ssl != null) {
        ssl.handshakeFuture().addListener(h -> {
          if (h.isSuccess()) {
            upstreamConnected();
          } else {
            dp.health().localFailure(endpoint, EndpointHealth.LocalOrigin.CONNECT_FAILED);
            upstream.close();
            ctx.close();
          }
        });
      } else {
        upstreamConnected();
      }
    });
    ctx.channel().closeFuture().addListener(f -> {
      cluster.release();
      dp.health().finished(endpoint);
      flushAndClose(upstream);
    });
  }

  private void upstreamConnected() {
    dp.health().connected(endpoint, true);
    if (pg) {
      upstream.writeAndFlush(Unpooled.wrappedBuffer(TlsSniffer.PG_SSL_REQUEST));
      upstream.read();
    } else {
      splice();
    }
  }

  /** Both sides connected: forward what was buffered and let bytes flow. */
  private void splice() {
    ready = true;
    for (Object o : pending) {
      upstream.write(o);
    }
    pending.clear();
    upstream.flush();
    upstream.config().setAutoRead(true);
    ctx.channel().config().setAutoRead(true);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (ready) {
      upstream.write(msg);
    } else {
      pending.add(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (ready) {
      upstream.flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ready) {
      upstream.config().setAutoRead(ctx.channel().isWritable());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    if (upstream != null) {
      flushAndClose(upstream);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  private static void flushAndClose(Channel ch) {
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Consumes the backend's one-byte answer to the replayed SSLRequest. */
  private final class PgSslAnswer extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext uctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      if (!b.isReadable()) {
        b.release();
        uctx.read();
        return;
      }
      byte answer = b.readByte();
      uctx.pipeline().remove(this);
      if (answer != 'S') {
        // The client was told 'S' already; a backend without TLS cannot continue this conversation.
        b.release();
        uctx.close();
        ctx.close();
        return;
      }
      if (b.isReadable()) {
        uctx.fireChannelRead(b);
      } else {
        b.release();
      }
      splice();
    }
  }

  /** Upstream to downstream. */
  private final class Relay extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext uctx, Object msg) {
      ctx.write(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext uctx) {
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext uctx) {
      ctx.channel().config().setAutoRead(uctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext uctx) {
      flushAndClose(ctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
      uctx.close();
    }
  }

  String listener() {
    return listener;
  }
}
