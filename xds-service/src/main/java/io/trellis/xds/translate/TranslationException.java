package io.trellis.xds.translate;

/** A view that cannot be turned into Envoy config; the proxy keeps its previous snapshot. */
public final class TranslationException extends RuntimeException {
  public TranslationException(String message) {
    super(message);
  }
}
