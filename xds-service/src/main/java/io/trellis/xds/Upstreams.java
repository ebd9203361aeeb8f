package io.trellis.xds;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.runtime.ShutdownEvent;
import io.trellis.api.auth.BearerAuth;
import io.trellis.api.auth.ServiceTokens;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Channels to policy-service and ca-service, with the local service token as bearer credentials. */
@ApplicationScoped
public class Upstreams {
  private final ManagedChannel policy;
  private final ManagedChannel ca;
  private final CallCredentials credentials;

  public Upstreams(
      @ConfigProperty(name = "trellis.policy.address") String policyAddress,
      @ConfigProperty(name = "trellis.ca.address") String caAddress,
      @ConfigProperty(name = "trellis.data-dir") String dataDir) {
    try {
      this.credentials = BearerAuth.credentials(ServiceTokens.loadOrCreate(Path.of(dataDir)));
    } catch (IOException e) {
      throw new UncheckedIOException("trellis.data-dir: cannot read or create the service token in " + dataDir, e);
    }
    this.policy = ManagedChannelBuilder.forTarget(policyAddress).usePlaintext().build();
    this.ca = ManagedChannelBuilder.forTarget(caAddress).usePlaintext().build();
  }

  public ManagedChannel policy() {
    return policy;
  }

  public ManagedChannel ca() {
    return ca;
  }

  public CallCredentials credentials() {
    return credentials;
  }

  void onStop(@Observes ShutdownEvent event) {
    policy.shutdownNow();
    ca.shutdownNow();
  }
}
