package io.trellis.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import io.trellis.gateway.config.RbacSpec;
import io.trellis.gateway.config.TlsContexts;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;

/** HTTP/1.1 and HTTP/2 server pipelines in front of {@link HttpProxyHandler}. */
final class HttpPipelines {
  private HttpPipelines() {}

  static void http1(DataPlane dp, String listener, String sni, boolean tls, RbacSpec.Peer peer, ChannelPipeline p) {
    // The fast path; it hands the connection to Netty's HttpServerCodec for anything it does not take.
    p.addLast("http1", new RawHttp1Codec());
    p.addLast("proxy", new HttpProxyHandler(dp, listener, sni, tls, peer, false));
  }

  static void http2(DataPlane dp, String listener, String sni, boolean tls, RbacSpec.Peer peer, ChannelPipeline p) {
    p.addLast("h2", Http2FrameCodecBuilder.forServer().build());
    p.addLast("h2-mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel ch) {
        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true));
        ch.pipeline().addLast(new HttpProxyHandler(dp, listener, sni, tls, peer, true));
      }
    }));
  }

  static RbacSpec.Peer peer(Channel ch) {
    SslHandler ssl = ch.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return RbacSpec.Peer.ANONYMOUS;
    }
    try {
      Certificate[] certs = ssl.engine().getSession().getPeerCertificates();
      if (certs.length > 0 && certs[0] instanceof X509Certificate x) {
        return new RbacSpec.Peer(TlsContexts.uriSans(x), true);
      }
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate
    }
    return RbacSpec.Peer.ANONYMOUS;
  }

  /** After the TLS handshake: h2 or http/1.1 by ALPN. */
  static final class Alpn extends ApplicationProtocolNegotiationHandler {
    private final DataPlane dp;
    private final String listener;
    private final String sni;

    Alpn(DataPlane dp, String listener, String sni, boolean mtls) {
      super(ApplicationProtocolNames.HTTP_1_1);
      this.dp = dp;
      this.listener = listener;
      this.sni = sni;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
      RbacSpec.Peer peer = peer(ctx.channel());
      if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
        http2(dp, listener, sni, true, peer, ctx.pipeline());
      } else {
        http1(dp, listener, sni, true, peer, ctx.pipeline());
      }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Plain-text: the HTTP/2 connection preface means h2c with prior knowledge, anything else HTTP/1.1. */
  static final class CleartextDetector extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
    private final DataPlane dp;
    private final String listener;

    CleartextDetector(DataPlane dp, String listener) {
      this.dp = dp;
      this.listener = listener;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
      boolean prefix = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, n);
      if (prefix && n < PREFACE.readableBytes()) {
        return;
      }
      if (prefix) {
        http2(dp, listener, null, false, RbacSpec.Peer.ANONYMOUS, ctx.pipeline());
      } else {
        http1(dp, listener, null, false, RbacSpec.Peer.ANONYMOUS, ctx.pipeline());
      }
      ctx.pipeline().remove(this);
    }
  }

  static long elapsedMillis(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
