package io.trellis.gateway.config;

import io.netty.handler.codec.http.HttpRequest;

/**
 * What route matching and key-auth read of a request: a decoded Netty {@link HttpRequest} or the proxy's
 * raw HTTP/1.1 head, so both paths share one implementation of the matching rules.
 */
public interface RequestView {
  /** The method as sent, e.g. {@code GET}. */
  String method();

  /** The request target as sent (path and query). */
  String uri();

  /** The first value of header {@code name} (case-insensitive), or null. */
  String header(String name);

  static RequestView of(HttpRequest req) {
    return new RequestView() {
      @Override
      public String method() {
        return req.method().name();
      }

      @Override
      public String uri() {
        return req.uri();
      }

      @Override
      public String header(String name) {
        return req.headers().get(name);
      }
    };
  }
}
