package io.trellis.xds.translate;

import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;

/**
 * Mesh mTLS transport sockets. Envoy gets its certificate and trust bundle over SDS; proxyless gRPC has no
 * SDS client, so it is pointed at a certificate-provider instance ({@link Names#GRPC_CERT_PROVIDER}) that
 * its bootstrap defines (a file watcher fed with the same certificates).
 */
public final class TlsContexts {
  private TlsContexts() {}

  /** Server side of an inbound: present the proxy's identity, require a client cert from the mesh CA. */
  public static TransportSocket downstream(ProxyInput in) {
    DownstreamTlsContext ctx = DownstreamTlsContext.newBuilder()
        .setRequireClientCertificate(com.google.protobuf.BoolValue.of(true))
        .setCommonTlsContext(common(in, in.proxyless() ? null
            : StringMatcher.newBuilder().setPrefix("spiffe://" + in.meshName() + "/").build()))
        .build();
    return TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Protos.any(ctx)).build();
  }

  /** Client side towards {@code service}: present the identity, accept only the service's SPIFFE ID. */
  public static TransportSocket upstream(ProxyInput in, String service) {
    UpstreamTlsContext ctx = UpstreamTlsContext.newBuilder()
        .setSni(service)
        .setCommonTlsContext(common(in, StringMatcher.newBuilder().setExact(Names.spiffeId(in.meshName(), service)).build()))
        .build();
    return TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Protos.any(ctx)).build();
  }

  /**
   * @param peerSan required peer SAN; null on a proxyless server, which refuses SAN matchers downstream
   *     (the mesh trust bundle and the RBAC principals still pin the peer)
   */
  private static CommonTlsContext common(ProxyInput in, StringMatcher peerSan) {
    CommonTlsContext.Builder c = CommonTlsContext.newBuilder();
    if (in.proxyless()) {
      CertificateProviderPluginInstance provider = CertificateProviderPluginInstance.newBuilder()
          .setInstanceName(Names.GRPC_CERT_PROVIDER).setCertificateName("default").build();
      c.setTlsCertificateProviderInstance(provider);
      CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder().setCaCertificateProviderInstance(provider);
      if (peerSan != null) {
        v.addMatchSubjectAltNames(peerSan);
      }
      c.setValidationContext(v);
      return c.build();
    }
    c.addTlsCertificateSdsSecretConfigs(sds(Names.identitySecret(in.meshName())));
    c.setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
        .setDefaultValidationContext(CertificateValidationContext.newBuilder()
            .addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                .setSanType(SubjectAltNameMatcher.SanType.URI).setMatcher(peerSan)))
        .setValidationContextSdsSecretConfig(sds(Names.caSecret(in.meshName()))));
    return c.build();
  }

  public static SdsSecretConfig sds(String name) {
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(Protos.ads()).build();
  }
}
