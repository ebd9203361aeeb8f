package io.trellis.gateway.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 upstream: answers with its name, the request line and headers (one per line), and
 * the byte count and SHA-256 of the body it received. {@code /sleep/<ms>} delays the answer;
 * {@code /status/<code>} answers with that status.
 */
public final class EchoServer implements AutoCloseable {
  private final HttpServer server;
  private final String name;
  public final AtomicInteger requests = new AtomicInteger();
  public final Map<String, Boolean> connections = new ConcurrentHashMap<>();

  public EchoServer(String name) throws IOException {
    this.name = name;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/", this::handle);
    server.start();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    connections.put(ex.getRemoteAddress().toString(), true);
    String path = ex.getRequestURI().getRawPath();
    try (InputStream in = ex.getRequestBody()) {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[65536];
      long n = 0;
      for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
        md.update(buf, 0, r);
        n += r;
      }
      int sl = path.indexOf("/sleep/");
      if (sl >= 0) {
        Thread.sleep(Long.parseLong(path.substring(sl + 7)));
      }
      int st = path.indexOf("/status/");
      int status = st >= 0 ? Integer.parseInt(path.substring(st + 8)) : 200;
      StringBuilder b = new StringBuilder();
      b.append("server=").append(name).append('\n');
      b.append("request=").append(ex.getRequestMethod()).append(' ').append(ex.getRequestURI()).append('\n');
      Map<String, String> h = new TreeMap<>();
      ex.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(), String.join(",", v)));
      h.forEach((k, v) -> b.append("h:").append(k).append('=').append(v).append('\n'));
      b.append("body-bytes=").append(n).append('\n');
      b.append("body-sha256=").append(java.util.HexFormat.of().formatHex(md.digest())).append('\n');
      byte[] out = b.toString().getBytes();
      ex.getResponseHeaders().set("content-type", "text/plain");
      ex.getResponseHeaders().set("x-upstream", name);
      int bg = path.indexOf("/big/");
      if (bg >= 0) {
        // streamed, chunked response of the given size
        long size = Long.parseLong(path.substring(bg + 5));
        ex.sendResponseHeaders(status, 0);
        try (OutputStream os = ex.getResponseBody()) {
          byte[] chunk = new byte[65536];
          for (long left = size; left > 0; left -= chunk.length) {
            os.write(chunk, 0, (int) Math.min(left, chunk.length));
          }
        }
        return;
      }
      ex.sendResponseHeaders(status, status == 204 ? -1 : out.length);
      if (status != 204) {
        try (OutputStream os = ex.getResponseBody()) {
          os.write(out);
        }
      }
    } catch (Exception e) {
      ex.sendResponseHeaders(500, -1);
    } finally {
      ex.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
