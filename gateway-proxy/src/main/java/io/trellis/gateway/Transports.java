package io.trellis.gateway;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/** Native epoll transport on Linux, NIO everywhere else. */
public final class Transports {
  private Transports() {}

  public static boolean nativeEpoll() {
    return Epoll.isAvailable();
  }

  public static EventLoopGroup group(int threads) {
    return nativeEpoll() ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
  }

  public static Class<? extends ServerSocketChannel> serverChannel() {
    return nativeEpoll() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public static Class<? extends SocketChannel> clientChannel() {
    return nativeEpoll() ? EpollSocketChannel.class : NioSocketChannel.class;
  }
}
