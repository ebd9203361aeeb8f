package io.trellis.policy.kubernetes;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** Starts {@link MockApiServer} (CRDs applied) for a {@code @QuarkusTest} and points the Kubernetes client at it. */
public class MockApiServerResource implements QuarkusTestResourceLifecycleManager {
  static MockApiServer server;

  @Override
  public Map<String, String> start() {
    server = new MockApiServer();
    // quarkus.kubernetes-client.* is fixed at build time; fabric8's own auto-configuration reads these at run
    // time (what quarkus-test-kubernetes-client does too)
    System.setProperty("kubernetes.master", server.client().getConfiguration().getMasterUrl());
    System.setProperty("kubernetes.trust.certificates", "true");
    System.setProperty("kubernetes.namespace", "kuma-system");
    System.setProperty("kubernetes.auth.tryKubeConfig", "false");
    System.setProperty("kubernetes.auth.tryServiceAccount", "false");
    return Map.of();
  }

  @Override
  public void stop() {
    if (server != null) {
      server.close();
    }
    for (String p : new String[] {"kubernetes.master", "kubernetes.trust.certificates", "kubernetes.namespace",
        "kubernetes.auth.tryKubeConfig", "kubernetes.auth.tryServiceAccount"}) {
      System.clearProperty(p);
    }
  }
}
