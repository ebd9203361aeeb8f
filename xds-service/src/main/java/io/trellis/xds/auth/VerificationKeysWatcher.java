package io.trellis.xds.auth;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.trellis.api.ca.v1.DataplaneTokensGrpc;
import io.trellis.api.ca.v1.VerificationKeysRequest;
import io.trellis.xds.ResilientStream;
import io.trellis.xds.Scheduler;
import io.trellis.xds.Upstreams;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;

/** Keeps {@link DataplaneTokenVerifier} current from ca-service's {@code WatchVerificationKeys} (all meshes). */
@ApplicationScoped
public class VerificationKeysWatcher {
  private final DataplaneTokenVerifier verifier = new DataplaneTokenVerifier(Clock.systemUTC());
  private final Upstreams upstreams;
  private final Scheduler scheduler;
  private ResilientStream<io.trellis.api.ca.v1.VerificationKeys> stream;

  public VerificationKeysWatcher(Upstreams upstreams, Scheduler scheduler) {
    this.upstreams = upstreams;
    this.scheduler = scheduler;
  }

  void onStart(@Observes StartupEvent event) {
    var stub = DataplaneTokensGrpc.newStub(upstreams.ca()).withCallCredentials(upstreams.credentials());
    stream = new ResilientStream<>("ca-service WatchVerificationKeys",
        observer -> stub.watchVerificationKeys(VerificationKeysRequest.getDefaultInstance(), observer),
        verifier::update, scheduler.executor()).start();
  }

  void onStop(@Observes ShutdownEvent event) {
    if (stream != null) {
      stream.close();
    }
  }

  public DataplaneTokenVerifier verifier() {
    return verifier;
  }
}
