package io.trellis.xds.translate;

import java.util.function.Supplier;

/**
 * Reuse of translation results whose inputs did not change. Translators stay pure: a key holds every
 * input of the piece it names, so a hit returns exactly what {@code build} would have built. With
 * {@link #NONE} (tests, goldens) everything is built.
 */
public interface Memo {
  Memo NONE = new Memo() {
    @Override
    public <T> T get(Key key, Supplier<T> build) {
      return build.get();
    }
  };

  <T> T get(Key key, Supplier<T> build);

  /**
   * A memo key. {@code shared}: the piece is the same for every proxy with these inputs (clusters, endpoints,
   * routes of a service), so one instance may serve all of them; otherwise it is reused only by the proxy
   * that built it (e.g. outbound listeners, which carry the proxy's own service in access logs).
   */
  record Key(String kind, boolean shared, Object... parts) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.kind.equals(kind) && k.shared == shared && java.util.Arrays.equals(k.parts, parts);
    }

    @Override
    public int hashCode() {
      return kind.hashCode() * 31 + java.util.Arrays.hashCode(parts);
    }
  }
}
