package io.trellis.gateway.proxy;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.trellis.gateway.config.FilterChainSpec;
import io.trellis.gateway.config.ListenerSpec;

/** Chooses a new connection's pipeline from the listener as configured right now. */
final class ConnectionInitializer extends ChannelInitializer<SocketChannel> {
  private final DataPlane dp;
  private final String listener;

  ConnectionInitializer(DataPlane dp, String listener) {
    this.dp = dp;
    this.listener = listener;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ListenerSpec l = dp.config().listeners().get(listener);
    if (l == null) {
      ch.close();
      return;
    }
    dp.metrics().connectionOpened(listener, ch);
    if (l.inspectTls()) {
      ch.pipeline().addLast("sniff", new TlsSniffer());
      ch.pipeline().addLast("sni", new SniRouter(dp, listener));
      return;
    }
    FilterChainSpec chain = l.select(null, false);
    if (chain == null) {
      ch.close();
      return;
    }
    install(dp, listener, ch, chain, null, false);
  }

  /** Installs the handlers for a chosen filter chain after the current position of the pipeline. */
  static void install(DataPlane dp, String listener, io.netty.channel.Channel ch, FilterChainSpec chain, String sni,
      boolean pgSslRequest) {
    if (chain.tls() != null) {
      if (pgSslRequest) {
        // A PostgreSQL SSLRequest was answered with 'S' on behalf of the backend: only passthrough can honour it.
        ch.close();
        return;
      }
      var ssl = chain.tls().newHandler(ch.alloc());
      ch.pipeline().addLast("ssl", ssl);
      if (chain.http() != null) {
        ch.pipeline().addLast("alpn", new HttpPipelines.Alpn(dp, listener, sni, chain.mtls()));
      } else {
        ch.pipeline().addLast("tcp", new TcpProxyHandler(dp, listener, chain.tcp(), false));
      }
      return;
    }
    if (chain.http() != null) {
      if (pgSslRequest) {
        ch.close();
        return;
      }
      ch.pipeline().addLast("h2c-detect", new HttpPipelines.CleartextDetector(dp, listener));
    } else {
      ch.pipeline().addLast("tcp", new TcpProxyHandler(dp, listener, chain.tcp(), pgSslRequest));
    }
  }
}
