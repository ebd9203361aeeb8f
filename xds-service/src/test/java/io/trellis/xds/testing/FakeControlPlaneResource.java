package io.trellis.xds.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Starts {@link FakeControlPlane} on a random port before Quarkus and points xds-service at it. */
public class FakeControlPlaneResource implements QuarkusTestResourceLifecycleManager {
  public static volatile FakeControlPlane FAKE;

  @Override
  public Map<String, String> start() {
    try {
      Path dataDir = Files.createTempDirectory("xds-test-data");
      FAKE = new FakeControlPlane(dataDir);
      return Map.of(
          "trellis.policy.address", FAKE.address(),
          "trellis.ca.address", FAKE.address(),
          "trellis.data-dir", dataDir.toString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void stop() {
    if (FAKE != null) {
      FAKE.close();
    }
  }
}
