package io.trellis.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceTokensTest {
  @TempDir Path dir;

  @Test
  void firstStartCreatesAndLaterStartsReadTheSameToken() throws IOException {
    String first = ServiceTokens.loadOrCreate(dir);
    assertThat(first).hasSizeGreaterThanOrEqualTo(43);
    assertThat(ServiceTokens.loadOrCreate(dir)).isEqualTo(first);
    assertThat(Files.getPosixFilePermissions(dir.resolve(ServiceTokens.FILE_NAME))).hasSize(2);
  }

  @Test
  void servicesStartingTogetherAgreeOnOneToken() throws Exception {
    var pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        results.add(pool.submit((Callable<String>) () -> ServiceTokens.loadOrCreate(dir)));
      }
      String expected = results.get(0).get();
      for (Future<String> f : results) {
        assertThat(f.get()).isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aTruncatedTokenFileIsRefused() throws IOException {
    Files.writeString(dir.resolve(ServiceTokens.FILE_NAME), "short\n");
    assertThatThrownBy(() -> ServiceTokens.loadOrCreate(dir)).hasMessageContaining("service token too short");
  }

  @Test
  void comparisonNeedsAnExactMatch() {
    assertThat(ServiceTokens.matches("abc", "abc")).isTrue();
    assertThat(ServiceTokens.matches("abc", "abd")).isFalse();
    assertThat(ServiceTokens.matches("abc", null)).isFalse();
  }
}
