package io.trellis.xds.translate;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.util.List;

/** The proxy's identity certificate and the mesh trust bundle as SDS secrets. */
public final class SecretTranslator {
  private SecretTranslator() {}

  /** Key material of one proxy: PEM leaf + chain, PEM private key, PEM roots of every mesh backend. */
  public record Identity(String certChainPem, String privateKeyPem, String trustBundlePem) {
    @Override
    public String toString() {
      return "Identity[key=<redacted>]";
    }
  }

  public static List<Secret> translate(String mesh, Identity identity) {
    Secret cert = Secret.newBuilder().setName(Names.identitySecret(mesh))
        .setTlsCertificate(TlsCertificate.newBuilder()
            .setCertificateChain(DataSource.newBuilder().setInlineString(identity.certChainPem()))
            .setPrivateKey(DataSource.newBuilder().setInlineString(identity.privateKeyPem())))
        .build();
    Secret ca = Secret.newBuilder().setName(Names.caSecret(mesh))
        .setValidationContext(CertificateValidationContext.newBuilder()
            .setTrustedCa(DataSource.newBuilder().setInlineString(identity.trustBundlePem())))
        .build();
    return List.of(cert, ca);
  }
}
