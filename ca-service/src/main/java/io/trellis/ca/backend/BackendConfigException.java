package io.trellis.ca.backend;

import java.io.IOException;

/**
 * A backend that cannot load because of its configuration (bad RSAbits, invalid provided CA…):
 * retrying will not help until the Mesh or its Secrets change.
 */
public final class BackendConfigException extends IOException {
  public BackendConfigException(String message) {
    super(message);
  }
}
