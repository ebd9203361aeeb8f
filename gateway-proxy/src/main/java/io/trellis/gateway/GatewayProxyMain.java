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

  /** ADS server (xds-service), host:port; empty = no control plane (nothing is served). */
  @ConfigProperty(name = "trellis.gateway.xds-address", defaultValue = "127.0.0.1:5678")
  String xdsAddress;

  /** The Dataplane this proxy serves, {@code <mesh>.<name>}. */
  @ConfigProperty(name = "trellis.gateway.node-id", defaultValue = "default.gateway")
  String nodeId;

  @ConfigProperty(name = "trellis.gateway.dataplane-token-file")
  java.util.Optional<String> tokenFile;

  @ConfigProperty(name = "trellis.gateway.xds-ca-file")
  java.util.Optional<String> xdsCaFile;

  @Override
  public int run(String... args) throws Exception {
    var registry = AdminServer.newRegistry();
    var options = new io.trellis.gateway.proxy.DataPlane.Options(eventLoopThreads, maxRequestBytes, accessLog, null);
    try (var dp = new io.trellis.gateway.proxy.DataPlane(options, registry);
        AdminServer admin = new AdminServer(registry, dp::ready, () -> dp.config().dump())) {
      InetSocketAddress bound = admin.start(adminAddress, adminPort);
      LOG.infof("gateway-proxy admin listening on %s:%d (transport: %s, tls: %s)", bound.getHostString(), bound.getPort(),
          Transports.nativeEpoll() ? "epoll" : "nio", io.trellis.gateway.config.TlsContexts.provider());
      io.grpc.ManagedChannel channel = null;
      io.trellis.gateway.xds.AdsClient ads = null;
      if (!xdsAddress.isBlank()) {
        int colon = xdsAddress.lastIndexOf(':');
        if (colon < 1) {
          throw new IllegalArgumentException("trellis.gateway.xds-address: " + xdsAddress + " (expected: host:port)");
        }
        var b = io.grpc.netty.NettyChannelBuilder.forAddress(xdsAddress.substring(0, colon),
            Integer.parseInt(xdsAddress.substring(colon + 1)));
        if (xdsCaFile.isPresent()) {
          b.sslContext(io.grpc.netty.GrpcSslContexts.forClient().trustManager(new java.io.File(xdsCaFile.get())).build());
        } else {
          b.usePlaintext();
        }
        channel = b.build();
        String token = tokenFile.isPresent() ? java.nio.file.Files.readString(java.nio.file.Path.of(tokenFile.get())).trim() : null;
        ads = new io.trellis.gateway.xds.AdsClient(channel, nodeId, token, dp, null);
        ads.start();
        LOG.infof("ADS client for %s connecting to %s", nodeId, xdsAddress);
      }
      try {
        Quarkus.waitForExit();
      } finally {
        if (ads != null) {
          ads.close();
        }
        if (channel != null) {
          channel.shutdownNow();
        }
      }
    }
    return 0;
  }
}
