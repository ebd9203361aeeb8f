package io.trellis.ca.testing;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real TLS 1.3 handshake on a loopback port: a server presents {@code cert}/{@code key}, a client
 * that trusts only {@code cert} connects as {@code hostname} with HTTPS hostname verification and
 * exchanges one byte. Throws the client's handshake failure.
 */
public final class TlsHandshake {
  private TlsHandshake() {}

  public static void run(X509Certificate cert, PrivateKey key, String hostname) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", key, new char[0], new X509Certificate[] {cert});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    SSLContext serverCtx = SSLContext.getInstance("TLSv1.3");
    serverCtx.init(kmf.getKeyManagers(), null, null);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("server", cert);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext clientCtx = SSLContext.getInstance("TLSv1.3");
    clientCtx.init(null, tmf.getTrustManagers(), null);

    try (SSLServerSocket server = (SSLServerSocket) serverCtx.getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
        try (SSLSocket s = (SSLSocket) server.accept()) {
          s.setSoTimeout(10_000);
          int b = s.getInputStream().read();
          s.getOutputStream().write(b + 1);
          s.getOutputStream().flush();
        } catch (Exception e) {
          // the client reports the failure
        }
      });
      Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
      try (SSLSocket s = (SSLSocket) clientCtx.getSocketFactory().createSocket(plain, hostname, server.getLocalPort(), true)) {
        s.setSoTimeout(10_000);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        OutputStream out = s.getOutputStream();
        out.write(41);
        out.flush();
        if (s.getInputStream().read() != 42) {
          throw new IllegalStateException("no echo over TLS");
        }
      } finally {
        serving.get(10, TimeUnit.SECONDS);
      }
    }
  }
}
