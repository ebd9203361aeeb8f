package io.trellis.gateway.bench;

import static io.trellis.gateway.testing.Xds.*;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.trellis.gateway.AdminServer;
import io.trellis.gateway.config.XdsTranslator;
import io.trellis.gateway.proxy.DataPlane;
import io.trellis.gateway.testing.Xds;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts gateway-proxy for bench/gateway/run.sh with the peers' setup: 9081 plain HTTP, 9083 key-auth
 * (key-0..key-99 in header apikey), 9443 TLS termination with the bench's ECDSA certificate, 9446 SNI
 * passthrough of "localhost" to nginx's TLS port 8443; upstream 127.0.0.1:8080. Not a test.
 * Usage: BenchGateway CERT_DIR THREADS [PORT_OFFSET] (an offset runs a second gateway beside the first, e.g. to
 * compare two builds in the same run; the upstreams stay the same).
 */
public final class BenchGateway {
  public static void main(String[] args) throws Exception {
    String certs = args[0];
    int threads = Integer.parseInt(args[1]);
    int off = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    Map<String, String> keys = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      keys.put("consumer-" + i, "key-" + i);
    }
    Secret ec = Secret.newBuilder().setName("ec").setTlsCertificate(TlsCertificate.newBuilder()
        .setCertificateChain(DataSource.newBuilder().setFilename(certs + "/ec.crt"))
        .setPrivateKey(DataSource.newBuilder().setFilename(certs + "/ec.key"))).build();
    Listener tls = Listener.newBuilder().setName("tls").setAddress(address("127.0.0.1", 9443 + off))
        .addFilterChains(tlsHttpChain(List.of(), "routes", "ec")).build();
    Listener sni = Listener.newBuilder().setName("sni").setAddress(address("127.0.0.1", 9446 + off))
        .addFilterChains(passthroughChain(List.of("localhost"), "nginx-tls")).build();
    Xds.Set set = new Xds.Set().add(
        httpListener("http", 9081 + off, "routes"),
        httpListener("apikey", 9083 + off, "routes", keyAuth(false, keys)),
        tls, sni, ec,
        routes("routes", vhost("all", List.of("*"), prefix("/", "upstream").build())),
        staticCluster("upstream", new InetSocketAddress("127.0.0.1", 8080)),
        staticCluster("nginx-tls", new InetSocketAddress("127.0.0.1", 8443)));
    DataPlane dp = new DataPlane(new DataPlane.Options(threads, 0, false, null), AdminServer.newRegistry());
    dp.apply(XdsTranslator.translate(set.resources()));
    System.out.println("gateway-proxy bench listeners up, threads=" + threads);
    Thread.currentThread().join();
  }

  private BenchGateway() {}
}
