package io.trellis.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.trellis.gateway.config.EndpointHealth;
import io.trellis.gateway.config.FilterChainSpec;
import io.trellis.gateway.config.GatewayConfig;
import io.trellis.gateway.config.FaultSpec;
import io.trellis.gateway.config.KeyAuthSpec;
import io.trellis.gateway.config.LocalRateLimitSpec;
import io.trellis.gateway.config.ListenerSpec;
import io.trellis.gateway.config.RbacSpec;
import io.trellis.gateway.config.RequestView;
import io.trellis.gateway.config.RouteSpec;
import io.trellis.gateway.config.RouteTable;
import io.trellis.gateway.config.UpstreamCluster;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP reverse proxy for one downstream HTTP/1.1 connection or one HTTP/2 stream. Bodies stream in
 * both directions with backpressure (autoRead follows the other side's writability); nothing is
 * aggregated. Each request takes the configuration snapshot current when its head arrives.
 */
final class HttpProxyHandler extends ChannelInboundHandlerAdapter {
  static final AsciiString REQUEST_ID = AsciiString.cached("x-trellis-request-id");
  static final AsciiString UPSTREAM_LATENCY = AsciiString.cached("x-trellis-upstream-latency");
  static final AsciiString PROXY_LATENCY = AsciiString.cached("x-trellis-proxy-latency");
  static final AsciiString CONSUMER = AsciiString.cached("x-consumer-username");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString HTTPS = AsciiString.cached("https");
  private static final AsciiString HTTP = AsciiString.cached("http");
  static final String VIA = "1.1 trellis";
  private static final List<LocalRateLimitSpec.Header> OVERLOADED =
      List.of(new LocalRateLimitSpec.Header("x-envoy-overloaded", "true", true));
  private static final int MAX_QUEUED = 64;
  private static final long MAX_BUFFERED_WHILE_CONNECTING = 64 * 1024;

  private final DataPlane dp;
  private final String listener;
  private final String sni;
  private final boolean tls;
  private final RbacSpec.Peer peer;
  private final boolean h2;
  private ChannelHandlerContext ctx;
  private Exchange ex;
  private final ArrayDeque<Object> queued = new ArrayDeque<>();
  private boolean draining;
  private GatewayMetrics.RouteMeters meters;
  /** The client address as x-forwarded-for shows it, computed once per connection. */
  private String clientIp;
  /** Route timeouts: one timer per connection, re-armed only when it fires (not one timer per request). */
  private ScheduledFuture<?> timer;
  private long timerDeadline;
  private final Runnable checkTimeout = this::checkTimeout;
  /** The filter chain chosen for this connection under configuration {@code chainOf}. */
  private GatewayConfig chainOf;
  private FilterChainSpec.HttpSpec chainHttp;
  /** The upstream pool key of the last request (most keep-alive requests go to the same endpoint). */
  private UpstreamPool.Key poolKey;
  /** The fast path's codec while this connection uses it (null after it handed over to Netty's codec). */
  private RawHttp1Codec rawCodec;
  /** The fast path's response parser, reused by the connection's exchanges. */
  private RawResponse rawResponse;
  /**
   * The last key this connection presented, the key-auth configuration that judged it and its outcome: a
   * keep-alive client sends the same key on every request, so it is hashed and looked up once per connection and
   * configuration (a config swap brings a new KeyAuthSpec, so revoked keys are judged afresh).
   */
  private KeyAuthSpec authSpec;
  private String authKey;
  private KeyAuthSpec.Result authResult;

  HttpProxyHandler(DataPlane dp, String listener, String sni, boolean tls, RbacSpec.Peer peer, boolean h2) {
    this.dp = dp;
    this.listener = listener;
    this.sni = sni;
    this.tls = tls;
    this.peer = peer;
    this.h2 = h2;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (ex != null && ex.requestDone) {
      // A pipelined request: it waits until the current response is complete.
      queued.add(msg);
      if (queued.size() >= MAX_QUEUED) {
        updateRead();
      }
      return;
    }
    if (msg instanceof RawRequest raw) {
      rawCodec = raw.codec;
      try {
        if (ex != null) {
          ctx.close();
          return;
        }
        Exchange e = new Exchange();
        ex = e;
        e.start(raw);
      } finally {
        raw.release();
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      rawCodec = null;
      if (ex != null) {
        ReferenceCountUtil.release(msg);
        ctx.close();
        return;
      }
      Exchange e = new Exchange();
      ex = e;
      e.start(req);
      if (msg instanceof HttpContent c) {
        e.requestContent(c);
      }
      return;
    }
    if (msg instanceof HttpContent c) {
      if (ex == null) {
        c.release();
        return;
      }
      ex.requestContent(c);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (ex != null && ex.upstream != null) {
      ex.upstream.flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ex != null && ex.upstream != null) {
      ex.upstream.config().setAutoRead(ctx.channel().isWritable());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    if (ex != null) {
      ex.abort();
    }
    queued.forEach(ReferenceCountUtil::release);
    queued.clear();
    if (rawResponse != null) {
      rawResponse.release();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  /**
   * Backpressure without a syscall pair per request: reading pauses only when something would pile up - a
   * request body faster than the upstream takes it (or than 64 KiB while still connecting), or more than
   * {@link #MAX_QUEUED} pipelined messages. Keeping reads on between keep-alive requests also notices a client
   * that hangs up while its response is pending.
   */
  private void updateRead() {
    Channel ch = ctx.channel();
    boolean read;
    if (ex == null || ex.requestDone) {
      read = queued.size() < MAX_QUEUED && (rawCodec == null || !rawCodec.full());
    } else if (ex.local) {
      read = true;
    } else if (ex.upstream != null) {
      read = ex.upstream.isWritable();
    } else {
      read = ex.bufferedBytes < MAX_BUFFERED_WHILE_CONNECTING;
    }
    if (ch.config().isAutoRead() != read) {
      ch.config().setAutoRead(read);
    }
  }

  private void exchangeDone(boolean keepAlive) {
    ex = null;
    if (!keepAlive) {
      queued.forEach(ReferenceCountUtil::release);
      queued.clear();
      if (h2) {
        ctx.close();
      } else {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    updateRead();
    if (rawCodec != null) {
      rawCodec.responseDone();
      return;
    }
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (ex == null && !queued.isEmpty()) {
        channelRead(ctx, queued.poll());
        while (ex != null && !ex.requestDone && !queued.isEmpty()) {
          channelRead(ctx, queued.poll());
        }
      }
    } finally {
      draining = false;
    }
  }

  /**
   * Whether upstream writes may wait for this read's channelReadComplete (which flushes them): only on the fast
   * path while its codec is inside a read of the downstream (not when it hands on a held pipelined request).
   */
  private boolean flushAtReadComplete() {
    return rawCodec != null && rawCodec.reading();
  }

  /** Arms the connection's timer so it fires no later than {@code deadline} (System.nanoTime). */
  private void armTimer(long deadline) {
    if (timer != null) {
      if (timerDeadline - deadline <= 0) {
        return;
      }
      timer.cancel(false);
    }
    timerDeadline = deadline;
    timer = ctx.executor().schedule(checkTimeout, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void checkTimeout() {
    timer = null;
    Exchange e = ex;
    if (e == null || e.done || e.deadline == 0) {
      return;
    }
    if (e.deadline - System.nanoTime() <= 0) {
      e.timedOut();
    } else {
      armTimer(e.deadline);
    }
  }

  private String clientIp() {
    if (clientIp == null) {
      Channel c = ctx.channel();
      if (c.parent() != null && !(c.remoteAddress() instanceof InetSocketAddress)) {
        c = c.parent();
      }
      if (c.remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) {
        clientIp = a.getAddress().getHostAddress();
      }
    }
    return clientIp;
  }

  /**
   * Removes the headers a Connection header names (other than close/keep-alive); allocates nothing for the
   * usual plain {@code keep-alive} / {@code close}.
   */
  static void removeConnectionTokens(HttpHeaders h) {
    List<String> named = null;
    for (Iterator<String> it = h.valueStringIterator(HttpHeaderNames.CONNECTION); it.hasNext(); ) {
      String t = it.next();
      int i = 0;
      int n = t.length();
      while (i < n) {
        int comma = t.indexOf(',', i);
        int end = comma < 0 ? n : comma;
        int a = i;
        int b = end;
        while (a < b && Character.isWhitespace(t.charAt(a))) {
          a++;
        }
        while (b > a && Character.isWhitespace(t.charAt(b - 1))) {
          b--;
        }
        int len = b - a;
        if (len > 0 && !(len == 5 && t.regionMatches(true, a, "close", 0, 5))
            && !(len == 10 && t.regionMatches(true, a, "keep-alive", 0, 10))) {
          if (named == null) {
            named = new ArrayList<>(2);
          }
          named.add(t.substring(a, b));
        }
        i = end + 1;
      }
    }
    if (named != null) {
      // Removed after the walk: the value iterator must not see the headers change under it.
      named.forEach(h::remove);
    }
  }

  static String newRequestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return new UUID(r.nextLong(), r.nextLong()).toString();
  }

  /** One request/response. */
  private final class Exchange implements UpstreamPool.UpstreamListener, RawResponse.Listener {
    final long start = System.nanoTime();
    final String requestId = newRequestId();
    /** The request came through the fast path: raw bytes both ways, {@link #upstreamHead} is a ByteBuf. */
    boolean raw;
    String method;
    boolean headRequest;
    boolean fullRequest;
    /** The raw response head, held until the body's first bytes so that a small body shares its buffer. */
    ByteBuf pendingHead;
    private AsciiString requestIdAscii;
    /** Key-auth ran for this request (its consumer header is the proxy's, never the client's). */
    KeyAuthSpec keyAuth;
    boolean keepAlive;
    boolean requestDone;
    boolean local;
    boolean responseStarted;
    boolean upstreamKeepAlive = true;
    boolean reused;
    boolean done;
    String path;
    String authority;
    String routeName = "";
    String clusterName = "";
    String consumer;
    GatewayConfig config;
    RouteSpec route;
    UpstreamCluster cluster;
    InetSocketAddress endpoint;
    InetSocketAddress failedEndpoint;
    Channel upstream;
    Object upstreamHead;
    final List<HttpContent> buffered = new ArrayList<>(2);
    long bufferedBytes;
    long requestBytes;
    long upstreamStart;
    long upstreamLatencyMs;
    int status;
    int attemptsLeft;
    boolean freshRetryUsed;
    /** When the route timeout expires (System.nanoTime), 0 for none. */
    long deadline;
    /** The cluster whose circuit-breaker slot this exchange holds (released when it finishes). */
    UpstreamCluster admitted;
    /** A MeshFaultInjection delay before the request goes upstream. */
    long faultDelayNanos;

    void start(HttpRequest req) {
      method = req.method().name();
      headRequest = HttpMethod.HEAD.equals(req.method());
      fullRequest = req instanceof FullHttpRequest;
      keepAlive = h2 || HttpUtil.isKeepAlive(req);
      if (req.decoderResult().isFailure()) {
        keepAlive = false;
        reply(HttpResponseStatus.BAD_REQUEST, "application/json", "{\"message\":\"bad request\"}", null);
        return;
      }
      if (!admit(RequestView.of(req), req.uri(), req.headers().get(HttpHeaderNames.HOST))) {
        return;
      }
      if (keyAuth != null) {
        // Never let a client assert a consumer identity itself.
        req.headers().remove(CONSUMER);
        if (consumer != null) {
          req.headers().set(CONSUMER, consumer);
          if (keyAuth.hideCredentials()) {
            keyAuth.strip(req);
          }
        }
      }
      if (tooLarge(HttpUtil.getContentLength(req, -1L)) || !pickCluster()) {
        return;
      }
      upstreamHead = upstreamRequest(req);
      dispatch(req instanceof FullHttpRequest full ? full : null);
    }

    /** The fast path: the same decisions on a raw head; the upstream head is written from its bytes. */
    void start(RawRequest r) {
      raw = true;
      method = r.method();
      headRequest = r.isHead();
      keepAlive = r.keepAlive;
      if (rawResponse == null) {
        rawResponse = new RawResponse();
      }
      rawResponse.reset(headRequest);
      String uri = r.uri();
      if (!admit(r, uri, r.host()) || tooLarge(r.contentLength) || !pickCluster()) {
        return;
      }
      boolean hide = consumer != null && keyAuth.hideCredentials();
      String target = route.rewrite(hide ? keyAuth.stripQuery(uri) : uri);
      upstreamHead = r.upstreamHead(ctx.alloc(), target, clientIp(), tls, requestIdAscii(), keyAuth != null, consumer,
          hide ? keyAuth.keyNames() : null);
      dispatch(null);
    }

    /**
     * Filter chain, RBAC, route, key-auth and direct responses; false when a local reply was sent. Records the
     * route and the consumer; the caller edits the request accordingly.
     */
    private boolean admit(RequestView view, String uri, String host) {
      int q = uri.indexOf('?');
      path = q < 0 ? uri : uri.substring(0, q);
      authority = host;
      GatewayConfig cfg = dp.config();
      config = cfg;
      FilterChainSpec.HttpSpec http;
      if (cfg == chainOf) {
        http = chainHttp;
      } else {
        ListenerSpec l = cfg.listeners().get(listener);
        FilterChainSpec chain = l == null ? null : l.select(sni, tls);
        http = chain == null ? null : chain.http();
        chainOf = cfg;
        chainHttp = http;
      }
      if (http == null) {
        notFound();
        return false;
      }
      if (http.rbac() != null && !http.rbac().permits(peer)) {
        reply(HttpResponseStatus.FORBIDDEN, "text/plain", "RBAC: access denied", null);
        return false;
      }
      if (!faultsAndRateLimit(http)) {
        return false;
      }
      RouteTable.Match m = http.routes().match(authority, view, path);
      if (m == null) {
        notFound();
        return false;
      }
      route = m.route();
      routeName = route.name();
      KeyAuthSpec ka = http.keyAuth();
      if (ka != null) {
        keyAuth = ka;
        if (!route.keyAuthDisabled()) {
          String key = ka.presentedKey(view);
          KeyAuthSpec.Result r;
          if (ka == authSpec && key != null && key.equals(authKey)) {
            r = authResult;
          } else {
            r = ka.check(key);
            authSpec = ka;
            authKey = key;
            authResult = r;
          }
          if (!r.keyFound()) {
            reply(HttpResponseStatus.UNAUTHORIZED, "application/json", "{\"message\":\"No API key found in request\"}",
                "Key realm=\"trellis\"");
            return false;
          }
          if (!r.ok()) {
            reply(HttpResponseStatus.UNAUTHORIZED, "application/json",
                "{\"message\":\"Invalid authentication credentials\"}", null);
            return false;
          }
          consumer = r.username();
        }
      }
      if (route.isDirect()) {
        reply(HttpResponseStatus.valueOf(route.directStatus()), "text/plain",
            route.directBody() == null ? "" : route.directBody(), null);
        return false;
      }
      return true;
    }

    /** The request id as ASCII bytes (written into raw heads as an array copy). */
    private AsciiString requestIdAscii() {
      if (requestIdAscii == null) {
        requestIdAscii = new AsciiString(requestId.getBytes(StandardCharsets.ISO_8859_1), false);
      }
      return requestIdAscii;
    }

    private boolean tooLarge(long contentLength) {
      long max = dp.options().maxRequestBytes();
      if (max > 0 && contentLength > max) {
        keepAlive = false;
        reply(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "application/json",
            "{\"message\":\"Request size limit exceeded\"}", null);
        return true;
      }
      return false;
    }

    private boolean pickCluster() {
      clusterName = route.pickCluster();
      cluster = config.clusters().get(clusterName);
      if (cluster == null) {
        noHealthyUpstream();
        return false;
      }
      if (!cluster.tryAcquire()) {
        overflow();
        return false;
      }
      admitted = cluster;
      return true;
    }

    private void dispatch(FullHttpRequest full) {
      attemptsLeft = route.connectRetries();
      if (route.timeoutMs() > 0) {
        // the route timeout runs from when the request leaves the fault filter, as in Envoy's router
        deadline = start + faultDelayNanos + TimeUnit.MILLISECONDS.toNanos(route.timeoutMs());
        if (deadline == 0) {
          deadline = 1;
        }
        armTimer(deadline);
      }
      if (full != null) {
        requestDone = true;
        buffered.add(new DefaultLastHttpContent(full.content().retain(), full.trailingHeaders()));
      }
      updateRead();
      if (faultDelayNanos > 0) {
        // the body keeps arriving meanwhile and is held as while connecting (bounded, with back-pressure)
        ctx.executor().schedule(() -> {
          if (!done) {
            connect();
          }
        }, faultDelayNanos, TimeUnit.NANOSECONDS);
      } else {
        connect();
      }
    }

    /**
     * MeshFaultInjection and MeshRateLimit, in the order of Kuma's inbound filter chain (fault, then local rate
     * limit, both before routing): false when the request was answered here (or will be, after a delayed abort).
     */
    private boolean faultsAndRateLimit(FilterChainSpec.HttpSpec http) {
      FaultSpec.Decision fault = http.faults().isEmpty() ? FaultSpec.Decision.NONE : FaultSpec.decide(http.faults());
      if (fault.abortStatus() > 0) {
        HttpResponseStatus st = HttpResponseStatus.valueOf(fault.abortStatus());
        if (fault.delayNanos() > 0) {
          ctx.executor().schedule(() -> reply(st, "text/plain", "fault filter abort", null), fault.delayNanos(),
              TimeUnit.NANOSECONDS);
        } else {
          reply(st, "text/plain", "fault filter abort", null);
        }
        return false;
      }
      LocalRateLimitSpec rl = http.rateLimit();
      if (rl != null && rl.limited(System.nanoTime())) {
        dp.metrics().rateLimited(listener, "request");
        reply(HttpResponseStatus.valueOf(rl.status()), "text/plain", "local_rate_limited", null, rl.responseHeaders());
        return false;
      }
      faultDelayNanos = fault.delayNanos();
      return true;
    }

    private HttpRequest upstreamRequest(HttpRequest in) {
      HttpHeaders h = in.headers();
      removeConnectionTokens(h);
      h.remove(HttpHeaderNames.CONNECTION).remove(HttpHeaderNames.KEEP_ALIVE).remove(PROXY_CONNECTION)
          .remove(HttpHeaderNames.TE).remove(HttpHeaderNames.TRAILER).remove(HttpHeaderNames.UPGRADE)
          .remove(HttpHeaderNames.EXPECT);
      if (h2) {
        h.remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text())
            .remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text())
            .remove(HttpConversionUtil.ExtensionHeaderNames.PATH.text())
            .remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_DEPENDENCY_ID.text())
            .remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_WEIGHT.text())
            .remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (in instanceof FullHttpRequest full) {
          h.setInt(HttpHeaderNames.CONTENT_LENGTH, full.content().readableBytes());
        } else if (!h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
          h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
      }
      String ip = clientIp();
      if (ip != null) {
        String xff = h.get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, xff == null ? ip : xff + ", " + ip);
      }
      h.set(X_FORWARDED_PROTO, tls ? HTTPS : HTTP);
      h.set(REQUEST_ID, requestId);
      String via = h.get(HttpHeaderNames.VIA);
      h.set(HttpHeaderNames.VIA, via == null ? VIA : via + ", " + VIA);
      String uri = route.rewrite(in.uri());
      if (in.protocolVersion() == HttpVersion.HTTP_1_1 && !(in instanceof FullHttpRequest)) {
        // The decoded head is ours: forward it as is instead of copying it.
        in.setUri(uri);
        return in;
      }
      return new DefaultHttpRequest(HttpVersion.HTTP_1_1, in.method(), uri, h);
    }

    private void connect() {
      endpoint = cluster.pick(dp.health(), failedEndpoint);
      if (endpoint == null) {
        noHealthyUpstream();
        return;
      }
      dp.health().started(endpoint);
      InetSocketAddress ep = endpoint;
      upstreamStart = System.nanoTime();
      UpstreamPool.Key key = poolKey == null ? new UpstreamPool.Key(ep, cluster.tls(), cluster.sni(), raw)
          : poolKey.with(cluster, ep, raw);
      poolKey = key;
      Channel idle = UpstreamPool.reuse(key, this);
      reused = idle != null;
      if (idle != null) {
        send(idle);
        return;
      }
      Future<Channel> f = UpstreamPool.connect(ctx.channel().eventLoop(), cluster, key, this);
      if (f.isDone()) {
        connected(f, ep);
      } else {
        f.addListener(x -> connected(f, ep));
      }
    }

    private void connected(Future<Channel> f, InetSocketAddress ep) {
      if (done) {
        if (f.isSuccess()) {
          f.getNow().close();
        }
        dp.health().finished(ep);
        return;
      }
      if (!f.isSuccess()) {
        dp.health().finished(ep);
        dp.health().localFailure(ep, EndpointHealth.LocalOrigin.CONNECT_FAILED);
        failedEndpoint = ep;
        if (attemptsLeft-- > 0) {
          connect();
        } else {
          reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
              "upstream connect error or disconnect/reset before headers", null);
        }
        return;
      }
      dp.health().connected(ep, false);
      send(f.getNow());
    }

    private void send(Channel up) {
      upstream = up;
      boolean writable = ctx.channel().isWritable();
      if (upstream.config().isAutoRead() != writable) {
        upstream.config().setAutoRead(writable);
      }
      // A raw head may be written again (retry on another connection): each write gets its own reference.
      upstream.write(raw ? ((ByteBuf) upstreamHead).retainedDuplicate() : upstreamHead, upstream.voidPromise());
      for (HttpContent c : buffered) {
        forward(c);
      }
      buffered.clear();
      bufferedBytes = 0;
      if (!flushAtReadComplete()) {
        upstream.flush();
      }
      updateRead();
    }

    private void forward(HttpContent c) {
      if (!raw) {
        upstream.write(c, upstream.voidPromise());
      } else if (c.content().isReadable()) {
        upstream.write(c.content(), upstream.voidPromise());
      } else {
        c.release();
      }
    }

    void requestContent(HttpContent c) {
      if (fullRequest) {
        // The whole request came in one message (HTTP/2 with end of stream); start() retained its body.
        c.release();
        return;
      }
      boolean last = c instanceof LastHttpContent;
      if (local || done) {
        c.release();
        if (last) {
          requestDone = true;
          if (local && !done) {
            finishLocal();
          }
        }
        return;
      }
      requestBytes += c.content().readableBytes();
      long max = dp.options().maxRequestBytes();
      if (max > 0 && requestBytes > max) {
        c.release();
        if (!responseStarted) {
          keepAlive = false;
          closeUpstream();
          reply(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "application/json",
              "{\"message\":\"Request size limit exceeded\"}", null);
        } else {
          abort();
          ctx.close();
        }
        return;
      }
      if (upstream != null) {
        forward(c);
      } else {
        buffered.add(c);
        bufferedBytes += c.content().readableBytes();
      }
      if (last) {
        requestDone = true;
        if (upstream != null && !flushAtReadComplete()) {
          upstream.flush();
        }
      }
      updateRead();
    }

    // ------------------------------------------------------------ upstream side

    @Override
    public void upstreamRead(Object msg) {
      if (done) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (raw) {
        rawResponse.feed(ctx.alloc(), (ByteBuf) msg, this);
        return;
      }
      if (msg instanceof HttpResponse r) {
        if (r.status().code() == 100) {
          ReferenceCountUtil.release(msg);
          return;
        }
        responseHead(r);
      }
      if (msg instanceof HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        ctx.write(c, ctx.voidPromise());
        if (last) {
          ctx.flush();
          complete();
        }
      }
    }

    private void responseHead(HttpResponse r) {
      responseStarted = true;
      status = r.status().code();
      upstreamLatencyMs = HttpPipelines.elapsedMillis(upstreamStart);
      upstreamKeepAlive = HttpUtil.isKeepAlive(r);
      HttpHeaders h = r.headers();
      removeConnectionTokens(h);
      h.remove(HttpHeaderNames.CONNECTION).remove(HttpHeaderNames.KEEP_ALIVE).remove(PROXY_CONNECTION)
          .remove(HttpHeaderNames.TRAILER).remove(HttpHeaderNames.UPGRADE);
      r.setProtocolVersion(HttpVersion.HTTP_1_1);
      if (h2) {
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      } else if (!h.contains(HttpHeaderNames.CONTENT_LENGTH) && !HttpUtil.isTransferEncodingChunked(r)
          && mayHaveBody(r)) {
        HttpUtil.setTransferEncodingChunked(r, true);
      }
      long total = HttpPipelines.elapsedMillis(start);
      h.set(REQUEST_ID, requestId);
      h.set(UPSTREAM_LATENCY, upstreamLatencyMs);
      h.set(PROXY_LATENCY, Math.max(0, total - upstreamLatencyMs));
      String via = h.get(HttpHeaderNames.VIA);
      h.set(HttpHeaderNames.VIA, via == null ? VIA : via + ", " + VIA);
      if (!keepAlive && !h2) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      if (r instanceof HttpContent) {
        // A full response object (not produced by HttpClientCodec, but be safe): forward as is.
        return;
      }
      ctx.write(r, ctx.voidPromise());
    }

    private boolean mayHaveBody(HttpResponse r) {
      int code = r.status().code();
      return code >= 200 && code != 204 && code != 304 && !headRequest;
    }

    @Override
    public void responseHead(RawResponse r) {
      responseStarted = true;
      status = r.status;
      upstreamLatencyMs = HttpPipelines.elapsedMillis(upstreamStart);
      upstreamKeepAlive = r.keepAlive;
      long total = HttpPipelines.elapsedMillis(start);
      pendingHead = r.writeHead(ctx.alloc(), requestIdAscii(), upstreamLatencyMs, Math.max(0, total - upstreamLatencyMs),
          !keepAlive);
    }

    @Override
    public void responseBody(ByteBuf body, boolean last) {
      ByteBuf head = pendingHead;
      if (head != null) {
        // A small body goes out in the head's buffer: one write, one buffer for the socket.
        pendingHead = null;
        if (body.readableBytes() <= 1024) {
          head.writeBytes(body);
          body.release();
          body = head;
        } else {
          ctx.write(head, ctx.voidPromise());
        }
      }
      if (body.isReadable()) {
        ctx.write(body, ctx.voidPromise());
      } else {
        body.release();
      }
      if (last) {
        if (rawResponse.trailingGarbage) {
          upstreamKeepAlive = false;
        }
        ctx.flush();
        complete();
      }
    }

    @Override
    public void responseError(String reason) {
      upstreamKeepAlive = false;
      if (endpoint != null) {
        dp.health().localFailure(endpoint, EndpointHealth.LocalOrigin.CONNECT_FAILED);
      }
      if (!responseStarted) {
        closeUpstream();
        reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
            "upstream connect error or disconnect/reset before headers", null);
      } else {
        abort();
        ctx.close();
      }
    }

    @Override
    public void upstreamReadComplete() {
      if (!done && responseStarted) {
        if (pendingHead != null) {
          ctx.write(pendingHead, ctx.voidPromise());
          pendingHead = null;
        }
        ctx.flush();
      }
    }

    @Override
    public void upstreamWritabilityChanged() {
      if (!done) {
        updateRead();
      }
    }

    @Override
    public void upstreamClosed() {
      if (done) {
        return;
      }
      if (raw && responseStarted && rawResponse.untilClose()) {
        // The body ran until the upstream closed: that is its end.
        upstreamKeepAlive = false;
        rawResponse.upstreamClosed(ctx.alloc(), this);
        return;
      }
      if (raw) {
        // Whatever part of a head the dead connection sent is void; a retry starts afresh.
        rawResponse.reset(headRequest);
      }
      Channel dead = upstream;
      upstream = null;
      dp.health().finished(endpoint);
      if (responseStarted) {
        // Mid-response: nothing sane can be sent any more; the client sees a truncated response.
        dp.health().localFailure(endpoint, EndpointHealth.LocalOrigin.CONNECT_FAILED);
        finish(status);
        ctx.close();
        return;
      }
      boolean replayable = requestBytes == 0 && requestDone && buffered.isEmpty();
      if (reused && replayable && !freshRetryUsed) {
        // The upstream closed an idle keep-alive connection just as we reused it: retry on a new one.
        freshRetryUsed = true;
        reusedRetry();
        return;
      }
      dp.health().localFailure(endpoint, EndpointHealth.LocalOrigin.CONNECT_FAILED);
      if (dead != null && replayable && attemptsLeft-- > 0) {
        failedEndpoint = endpoint;
        connect();
        return;
      }
      reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
          "upstream connect error or disconnect/reset before headers", null);
    }

    private void reusedRetry() {
      connect();
    }

    void timedOut() {
      if (done) {
        return;
      }
      if (endpoint != null) {
        dp.health().localFailure(endpoint, EndpointHealth.LocalOrigin.TIMEOUT);
      }
      if (!responseStarted) {
        closeUpstream();
        reply(HttpResponseStatus.GATEWAY_TIMEOUT, "text/plain", "upstream request timeout", null);
      } else {
        abort();
        ctx.close();
      }
    }

    private void complete() {
      if (endpoint != null) {
        dp.health().finished(endpoint);
        dp.health().response(endpoint, status);
      }
      Channel up = upstream;
      upstream = null;
      if (up != null) {
        if (upstreamKeepAlive && requestDone) {
          UpstreamPool.release(up);
        } else {
          up.pipeline().get(UpstreamPool.UpstreamHandler.class).owner = null;
          up.close();
        }
      }
      boolean ka = keepAlive && requestDone;
      finish(status);
      exchangeDone(ka);
    }

    private void closeUpstream() {
      Channel up = upstream;
      upstream = null;
      if (up != null) {
        UpstreamPool.UpstreamHandler uh = up.pipeline().get(UpstreamPool.UpstreamHandler.class);
        if (uh != null) {
          uh.owner = null;
        }
        up.close();
        if (endpoint != null) {
          dp.health().finished(endpoint);
        }
      }
    }

    /** The downstream went away (or a fatal error): release everything, log what happened. */
    void abort() {
      if (done) {
        return;
      }
      closeUpstream();
      buffered.forEach(HttpContent::release);
      buffered.clear();
      finish(status == 0 ? 499 : status);
      ex = null;
    }

    private void finish(int code) {
      if (done) {
        return;
      }
      done = true;
      if (admitted != null) {
        admitted.release();
        admitted = null;
      }
      deadline = 0;
      buffered.forEach(HttpContent::release);
      buffered.clear();
      if (upstreamHead instanceof ByteBuf b) {
        b.release();
        upstreamHead = null;
      }
      if (pendingHead != null) {
        pendingHead.release();
        pendingHead = null;
      }
      long nanos = System.nanoTime() - start;
      GatewayMetrics.RouteMeters m = meters;
      if (m == null || !m.is(listener, routeName, clusterName)) {
        m = dp.metrics().meters(listener, routeName, clusterName);
        meters = m;
      }
      m.record(code, nanos);
      if (dp.options().accessLog()) {
        AccessLog.log(requestId, listener, method, authority, path, code, routeName, clusterName,
            endpoint == null ? null : endpoint.getHostString() + ":" + endpoint.getPort(),
            TimeUnit.NANOSECONDS.toMillis(nanos), upstreamLatencyMs, consumer,
            peer.uriSans().isEmpty() ? null : peer.uriSans().get(0));
      }
    }

    // ------------------------------------------------------------ local replies

    private void notFound() {
      reply(HttpResponseStatus.NOT_FOUND, "application/json",
          "{\"message\":\"no Route matched with those values\",\"request_id\":\"" + requestId + "\"}", null);
    }

    /** The cluster's circuit breaker is open: Envoy's answer on overflow. */
    private void overflow() {
      dp.metrics().overflow(clusterName);
      reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
          "upstream connect error or disconnect/reset before headers. reset reason: overflow", null, OVERLOADED);
    }

    private void noHealthyUpstream() {
      reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", "no healthy upstream", null);
    }

    private void reply(HttpResponseStatus st, String contentType, String body, String wwwAuthenticate) {
      reply(st, contentType, body, wwwAuthenticate, List.of());
    }

    private void reply(HttpResponseStatus st, String contentType, String body, String wwwAuthenticate,
        List<LocalRateLimitSpec.Header> extraHeaders) {
      if (done || responseStarted) {
        return;
      }
      local = true;
      status = st.code();
      responseStarted = true;
      FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, st,
          Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      HttpHeaders h = res.headers();
      h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
      h.setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
      h.set(REQUEST_ID, requestId);
      if (wwwAuthenticate != null) {
        h.set(HttpHeaderNames.WWW_AUTHENTICATE, wwwAuthenticate);
      }
      for (LocalRateLimitSpec.Header x : extraHeaders) {
        if (x.overwrite()) {
          h.set(x.name(), x.value());
        } else {
          h.add(x.name(), x.value());
        }
      }
      if (!h2 && !(keepAlive)) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      buffered.forEach(HttpContent::release);
      buffered.clear();
      ctx.writeAndFlush(res);
      if (fullRequest) {
        requestDone = true;
      }
      if (requestDone) {
        finishLocal();
      } else {
        updateRead();
      }
    }

    private void finishLocal() {
      boolean ka = keepAlive;
      finish(status);
      exchangeDone(ka);
    }
  }
}
