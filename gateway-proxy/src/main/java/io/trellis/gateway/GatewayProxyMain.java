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

  @ConfigProperty(name = "trellis.gateway.event-loop-threads")
  int eventLoopThreads;

  @ConfigProperty(name = "trellis.gateway.access-log", defaultValue = "true")
  boolean accessLog;

  @ConfigProperty(name = "trellis.gateway.max-request-bytes", defaultValue = "67108864")
  long maxRequestBytes;

  @Override
  public int run(String... args) throws Exception {
    var registry = AdminServer.newRegistry();
    var options = new io.trellis.gateway.proxy.DataPlane.Options(eventLoopThreads, maxRequestBytes, accessLog, null);
    try (var dp = new io.trellis.gateway.proxy.DataPlane(options, registry);
        AdminServer admin = new AdminServer(registry, dp::ready, () -> dp.config().dump())) {
      InetSocketAddress bound = admin.start(adminAddress, adminPort);
      LOG.infof("gateway-proxy admin listening on %s:%d (transport: %s)", bound.getHostString(), bound.getPort(),
          Transports.nativeEpoll() ? "epoll" : "nio");
      Quarkus.waitForExit();
    }
    return 0;
  }
}
