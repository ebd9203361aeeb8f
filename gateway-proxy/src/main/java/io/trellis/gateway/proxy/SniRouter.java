package io.trellis.gateway.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.util.concurrent.Future;
import io.trellis.gateway.config.FilterChainSpec;
import io.trellis.gateway.config.ListenerSpec;

/**
 * Reads the ClientHello's server name without terminating TLS and installs the matching filter chain
 * (termination, passthrough or plain HTTP for non-TLS bytes). Netty hands the buffered ClientHello to
 * the installed handlers when this one is removed.
 */
final class SniRouter extends AbstractSniHandler<FilterChainSpec> {
  private final DataPlane dp;
  private final String listener;

  SniRouter(DataPlane dp, String listener) {
    super(10_000);
    this.dp = dp;
    this.listener = listener;
  }

  @Override
  protected Future<FilterChainSpec> lookup(ChannelHandlerContext ctx, String hostname) {
    ListenerSpec l = dp.config().listeners().get(listener);
    boolean tls = Boolean.TRUE.equals(ctx.channel().attr(TlsSniffer.TLS).get());
    FilterChainSpec chain = l == null ? null : l.select(hostname, tls);
    return ctx.executor().newSucceededFuture(chain);
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<FilterChainSpec> future) {
    FilterChainSpec chain = future.getNow();
    if (chain == null) {
      ctx.close();
      return;
    }
    boolean pg = Boolean.TRUE.equals(ctx.channel().attr(TlsSniffer.PG).get());
    ConnectionInitializer.install(dp, listener, ctx.channel(), chain, hostname, pg);
    if (ctx.channel().isOpen()) {
      ctx.pipeline().remove(this);
    }
  }
}
