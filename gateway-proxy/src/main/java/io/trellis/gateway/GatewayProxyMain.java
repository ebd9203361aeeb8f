package io.trellis.gateway;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.net.InetSocketAddress;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Starts the gateway-proxy: admin port first, then the data plane as xDS configures it. */
@QuarkusMain
public class GatewayProxyMain implements QuarkusApplication {
  private static final Logger LOG = Logger.getLogger(GatewayProxyMain.class);

  @ConfigProperty(name = "trellis.gateway.admin-address")
  String adminAddress;

  @ConfigProperty(name = "trellis.gateway.admin-port")
  int adminPort;

  @Override
  public int run(String... args) throws Exception {
    var registry = AdminServer.newRegistry();
    // Ready once a configuration is in effect; until the xDS client lands the proxy serves an
    // empty (but valid) configuration and says so in /config_dump.
    try (AdminServer admin = new AdminServer(registry, () -> true, () -> "{\"configs\":[]}")) {
      InetSocketAddress bound = admin.start(adminAddress, adminPort);
      LOG.infof("gateway-proxy admin listening on %s:%d (transport: %s)", bound.getHostString(), bound.getPort(),
          Transports.nativeEpoll() ? "epoll" : "nio");
      Quarkus.waitForExit();
    }
    return 0;
  }
}
