package io.trellis.gateway.config;

import java.util.List;

/**
 * {@code envoy.filters.http.local_ratelimit} (MeshRateLimit on an inbound): requests beyond the bucket get
 * {@code status} with the body {@code local_rate_limited} and the configured response headers. Honours the
 * filter's {@code filter_enabled} / {@code filter_enforced} default fractions (per million): a request outside
 * the enabled fraction is not counted, one outside the enforced fraction takes a token but is let through.
 */
public record LocalRateLimitSpec(TokenBucket bucket, int status, List<Header> responseHeaders,
    int enabledPerMillion, int enforcedPerMillion) {

  /** A response header to add; {@code overwrite} replaces an existing value, otherwise it is appended. */
  public record Header(String name, String value, boolean overwrite) {}

  public LocalRateLimitSpec {
    responseHeaders = List.copyOf(responseHeaders);
  }

  /** Whether this request is refused. */
  public boolean limited(long nowNanos) {
    if (!FaultSpec.hit(enabledPerMillion)) {
      return false;
    }
    boolean refused = !bucket.tryTake(nowNanos);
    return refused && FaultSpec.hit(enforcedPerMillion);
  }
}
