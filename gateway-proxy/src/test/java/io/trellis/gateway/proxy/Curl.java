package io.trellis.gateway.proxy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/** Runs the real curl and parses its output into an {@link HttpResponse}-like object. */
final class Curl {
  private Curl() {}

  static HttpResponse<String> get(int port, String host, String path, String... headers) throws Exception {
    List<String> args = new ArrayList<>(List.of("-H", "Host: " + host));
    for (int i = 0; i < headers.length; i += 2) {
      args.add("-H");
      args.add(headers[i] + ": " + headers[i + 1]);
    }
    args.add("http://127.0.0.1:" + port + path);
    return run(port, args.toArray(new String[0]));
  }

  static HttpResponse<String> run(int port, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "--max-time", "20"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
    String out = new String(p.getInputStream().readAllBytes());
    String err = new String(p.getErrorStream().readAllBytes());
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException("curl " + cmd + " failed (" + rc + "): " + err);
    }
    // skip "HTTP/1.1 100 Continue" blocks
    while (out.startsWith("HTTP/1.1 100")) {
      out = out.substring(out.indexOf("\r\n\r\n") + 4);
    }
    int split = out.indexOf("\r\n\r\n");
    String head = out.substring(0, split);
    String body = out.substring(split + 4);
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, List<String>> hs = new HashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      hs.computeIfAbsent(lines[i].substring(0, c).trim().toLowerCase(), k -> new ArrayList<>()).add(lines[i].substring(c + 1).trim());
    }
    HttpHeaders headers = HttpHeaders.of(hs, (a, b) -> true);
    return new HttpResponse<>() {
      public int statusCode() { return status; }
      public HttpRequest request() { return null; }
      public Optional<HttpResponse<String>> previousResponse() { return Optional.empty(); }
      public HttpHeaders headers() { return headers; }
      public String body() { return body; }
      public Optional<SSLSession> sslSession() { return Optional.empty(); }
      public URI uri() { return null; }
      public HttpClient.Version version() { return lines[0].startsWith("HTTP/2") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1; }
    };
  }
}
