package io.trellis.injector;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.VersionInfo;
import io.trellis.injector.inject.InjectionSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/** Resolves {@link InjectorConfig} into {@link InjectionSettings} once (CA file read, cluster version asked). */
@ApplicationScoped
public class InjectionSettingsProducer {
  private static final Logger LOG = Logger.getLogger(InjectionSettingsProducer.class);
  private final InjectorConfig config;
  private final Instance<KubernetesClient> client;
  private volatile InjectionSettings settings;

  InjectionSettingsProducer(InjectorConfig config, Instance<KubernetesClient> client) {
    this.config = config;
    this.client = client;
  }

  public InjectionSettings settings() {
    InjectionSettings s = settings;
    if (s == null) {
      synchronized (this) {
        if (settings == null) {
          settings = build();
        }
        s = settings;
      }
    }
    return s;
  }

  private InjectionSettings build() {
    String ca;
    Path caFile = Path.of(config.xds().caFile());
    try {
      ca = Files.readString(caFile);
    } catch (IOException e) {
      throw new UncheckedIOException("trellis.injector.xds.ca-file: " + caFile + " cannot be read", e);
    }
    if (!ca.contains("-----BEGIN CERTIFICATE-----")) {
      throw new IllegalStateException("trellis.injector.xds.ca-file: " + caFile + " (expected: a PEM certificate)");
    }
    var sc = config.sidecar();
    return new InjectionSettings(
        config.systemNamespace(), sc.image(), config.init().image(), sc.uid(), sc.inboundPort(), sc.outboundPort(),
        sc.dnsPort(), sc.adminPort(), sc.readinessPort(), sc.virtualProbesPort(), sc.logLevel(), sc.requestsCpu(),
        sc.requestsMemory(), sc.limitsCpu(), sc.limitsMemory(), config.xds().address(), ca, config.xds().tokenAudience(),
        config.xds().tokenExpirationSeconds(), config.nativeSidecar(), supportsNativeSidecars(), config.builtinDns(),
        config.ipFamilyMode());
  }

  /** Native sidecars (restartPolicy Always on init containers) are on by default from Kubernetes 1.29. */
  private boolean supportsNativeSidecars() {
    String version = config.kubernetesVersion().orElse(null);
    if (version == null && config.nativeSidecar()) {
      try {
        VersionInfo info = client.get().getKubernetesVersion();
        version = info.getMajor() + "." + info.getMinor();
      } catch (RuntimeException e) {
        LOG.warnf("cluster version unknown (%s): native sidecars off", e.getMessage());
        return false;
      }
    }
    if (version == null) {
      return false;
    }
    String[] parts = version.replaceAll("[^0-9.]", "").split("\\.");
    try {
      int major = Integer.parseInt(parts[0]);
      int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return major > 1 || (major == 1 && minor >= 29);
    } catch (NumberFormatException e) {
      throw new IllegalStateException("trellis.injector.kubernetes-version: " + version + " (expected: e.g. 1.31)");
    }
  }
}
