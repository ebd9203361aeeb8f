package io.trellis.xds;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * A server-streaming watch that re-subscribes after errors with capped exponential backoff. The upstream
 * contracts resend the full state first on every new stream, so a reconnect needs no bookkeeping here,
 * and the last delivered state stays in use while disconnected (a slow or restarted dependency never turns
 * into an empty config).
 */
public final class ResilientStream<T> {
  private static final Logger LOG = Logger.getLogger(ResilientStream.class);
  private static final long MAX_BACKOFF_MS = 10_000;

  private final String what;
  private final Consumer<StreamObserver<T>> opener;
  private final Consumer<T> onMessage;
  private final ScheduledExecutorService scheduler;
  private volatile Context.CancellableContext context;
  private volatile boolean closed;
  private long backoffMs = 100;

  public ResilientStream(String what, Consumer<StreamObserver<T>> opener, Consumer<T> onMessage,
      ScheduledExecutorService scheduler) {
    this.what = what;
    this.opener = opener;
    this.onMessage = onMessage;
    this.scheduler = scheduler;
  }

  public ResilientStream<T> start() {
    open();
    return this;
  }

  private void open() {
    if (closed) {
      return;
    }
    Context.CancellableContext ctx = Context.ROOT.withCancellation();
    context = ctx;
    ctx.run(() -> opener.accept(new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        synchronized (ResilientStream.this) {
          backoffMs = 100;
        }
        try {
          onMessage.accept(value);
        } catch (RuntimeException e) {
          LOG.errorf(e, "%s: handling an update failed", what);
        }
      }

      @Override
      public void onError(Throwable t) {
        retry(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        retry(Status.UNAVAILABLE.withDescription("stream completed by server"));
      }
    }));
  }

  private void retry(Status status) {
    if (closed) {
      return;
    }
    long delay;
    synchronized (this) {
      delay = backoffMs;
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    }
    LOG.debugf("%s: stream ended (%s: %s), retrying in %d ms", what, status.getCode(), status.getDescription(), delay);
    if (delay >= 1600) {
      LOG.warnf("%s: stream ended (%s: %s), retrying in %d ms", what, status.getCode(), status.getDescription(), delay);
    }
    try {
      scheduler.schedule(this::open, delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
      closed = true;
    }
  }

  public void close() {
    closed = true;
    Context.CancellableContext ctx = context;
    if (ctx != null) {
      ctx.cancel(null);
    }
  }
}
