package io.trellis.xds;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** One small scheduler for retries, certificate renewals and translation work. */
@ApplicationScoped
public class Scheduler {
  private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, r -> {
    Thread t = new Thread(r, "trellis-xds-scheduler");
    t.setDaemon(true);
    return t;
  });

  public ScheduledExecutorService executor() {
    return executor;
  }

  void onStop(@Observes ShutdownEvent event) {
    executor.shutdownNow();
  }
}
