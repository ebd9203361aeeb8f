// The local demo's application: a plain HTTP service behind its gateway-proxy sidecar (./trellis demo).
// Run with the JDK's single-file launcher: java demo/DemoApp.java <port>
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

public class DemoApp {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args.length > 0 ? args[0] : "18080");
    AtomicLong counter = new AtomicLong();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/", ex -> {
      String consumer = ex.getRequestHeaders().getFirst("X-Consumer-Username");
      String body = "{\"service\":\"demo-app\",\"path\":\"" + ex.getRequestURI().getPath() + "\",\"counter\":"
          + counter.incrementAndGet() + (consumer == null ? "" : ",\"consumer\":\"" + consumer + "\"") + "}\n";
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, bytes.length);
      ex.getResponseBody().write(bytes);
      ex.close();
    });
    server.start();
    System.out.println("demo-app listening on 127.0.0.1:" + port);
  }
}
