package io.trellis.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.AttributeKey;
import java.util.List;

/**
 * Looks at the first bytes of a connection on a TLS-inspecting listener. A TLS record (0x16) is marked as
 * TLS. A PostgreSQL SSLRequest ({@code 00 00 00 08 04 d2 16 2f}) is answered with {@code S} on the
 * backend's behalf and consumed, so the ClientHello that follows can be read for its SNI; the TCP proxy
 * replays the SSLRequest to the backend later.
 */
final class TlsSniffer extends ByteToMessageDecoder {
  static final AttributeKey<Boolean> TLS = AttributeKey.valueOf("trellis.tls");
  static final AttributeKey<Boolean> PG = AttributeKey.valueOf("trellis.pg-ssl-request");
  static final byte[] PG_SSL_REQUEST = {0, 0, 0, 8, 4, (byte) 0xd2, 0x16, 0x2f};

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!in.isReadable()) {
      return;
    }
    byte first = in.getByte(in.readerIndex());
    if (first == 0 && !Boolean.TRUE.equals(ctx.channel().attr(PG).get())) {
      if (in.readableBytes() < 8) {
        return;
      }
      boolean pg = true;
      for (int i = 0; i < 8; i++) {
        pg &= in.getByte(in.readerIndex() + i) == PG_SSL_REQUEST[i];
      }
      if (pg) {
        in.skipBytes(8);
        ctx.channel().attr(PG).set(true);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
        return;
      }
    }
    if (!in.isReadable()) {
      return;
    }
    ctx.channel().attr(TLS).set(in.getByte(in.readerIndex()) == 0x16);
    ctx.pipeline().remove(this);
  }
}
