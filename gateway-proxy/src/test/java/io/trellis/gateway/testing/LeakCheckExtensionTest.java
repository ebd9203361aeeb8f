package io.trellis.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The leak check every test class runs under can fail: paranoid is on and a leaked buffer is caught. */
class LeakCheckExtensionTest {

  @Test
  void aLeakedPooledBufferIsReported() throws Exception {
    assertThat(ResourceLeakDetector.getLevel()).as("surefire/failsafe argLine").isEqualTo(ResourceLeakDetector.Level.PARANOID);
    leakOne();
    for (int i = 0; i < 100 && LeakCheckExtension.LEAKS.stream().noneMatch(l -> l.contains(LeakCheckExtension.SELF_TEST)); i++) {
      System.gc();
      Thread.sleep(20);
      // The detector reports collected leaks on the next tracked allocation.
      PooledByteBufAllocator.DEFAULT.buffer(8).release();
    }
    try {
      assertThat(LeakCheckExtension.LEAKS).anyMatch(l -> l.contains(LeakCheckExtension.SELF_TEST));
    } finally {
      // This class leaked on purpose: do not let afterAll fail it.
      LeakCheckExtension.LEAKS.removeIf(l -> l.contains(LeakCheckExtension.SELF_TEST));
    }
  }

  private static void leakOne() {
    ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(32);
    b.touch(LeakCheckExtension.SELF_TEST);
    b.writeLong(42);
  }
}
