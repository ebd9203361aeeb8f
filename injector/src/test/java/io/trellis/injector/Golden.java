package io.trellis.injector;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Compares with a golden file under src/test/resources; {@code -DupdateGolden=true} rewrites it. */
final class Golden {
  private Golden() {}

  static void assertMatches(String actual, String resource) throws IOException {
    Path file = Path.of("src/test/resources").resolve(resource);
    boolean update = Boolean.getBoolean("updateGolden");
    if (update || !Files.exists(file)) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, actual);
      if (!update) {
        throw new AssertionError("golden file " + file + " was missing and has been written: review it and run again");
      }
      return;
    }
    assertThat(actual).as("golden file %s (rerun with -DupdateGolden=true to accept)", file).isEqualTo(Files.readString(file));
  }
}
