package io.trellis.gateway.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Installed for every test class (auto-detected): records Netty leak reports and fails the class if
 * any appeared. The surefire/failsafe argLine sets the detector to paranoid.
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {
  /** The hint LeakCheckExtensionTest leaks with: counted, not logged, so the build log has no "LEAK:" at all. */
  static final String SELF_TEST = "leak-check-self-test";
  static final List<String> LEAKS = new CopyOnWriteArrayList<>();
  private static volatile boolean installed;

  static synchronized void install() {
    if (installed) {
      return;
    }
    installed = true;
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
      @Override
      public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
        return new ResourceLeakDetector<T>(resource, samplingInterval) {
          @Override
          protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.add(resourceType + records);
            if (!records.contains(SELF_TEST)) {
              super.reportTracedLeak(resourceType, records);
            }
          }

          @Override
          protected void reportUntracedLeak(String resourceType) {
            LEAKS.add(resourceType);
            super.reportUntracedLeak(resourceType);
          }
        };
      }
    });
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    install();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    // Leaks are reported when a leaked buffer is collected and the detector next runs: provoke both.
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
      for (int j = 0; j < 100; j++) {
        ByteBufAllocator.DEFAULT.buffer(16).release();
      }
    }
    if (!LEAKS.isEmpty()) {
      String first = LEAKS.get(0);
      LEAKS.clear();
      throw new AssertionError("Netty leak detector reported leaks in " + context.getDisplayName() + ":\n" + first);
    }
  }
}
