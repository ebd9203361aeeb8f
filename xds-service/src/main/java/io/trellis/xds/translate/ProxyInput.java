package io.trellis.xds.translate;

import static java.util.Objects.requireNonNull;

import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.model.Resource;
import io.trellis.api.policy.v1.ProxyView;

/**
 * Everything the translators read for one proxy: the policy-service view plus the parsed Dataplane and
 * Mesh, and what kind of xDS client asked. Built once per view, shared by all translators.
 *
 * @param client Envoy gets SDS secrets; proxyless gRPC (no SDS support) gets certificate-provider
 *     instances and API listeners named by service
 */
public record ProxyInput(ProxyView view, DataplaneSpec dataplane, MeshSpec mesh, ClientKind client, Memo memo) {
  /** The xDS client flavour, from the node's user agent. */
  public enum ClientKind {
    ENVOY,
    GRPC
  }

  public ProxyInput {
    requireNonNull(view, "view");
    requireNonNull(dataplane, "dataplane");
    requireNonNull(client, "client");
    requireNonNull(memo, "memo");
  }

  public ProxyInput(ProxyView view, DataplaneSpec dataplane, MeshSpec mesh, ClientKind client) {
    this(view, dataplane, mesh, client, Memo.NONE);
  }

  /** Parses the view's resource JSON with the api codec; a malformed view is a policy-service bug. */
  public static ProxyInput of(ProxyView view, ClientKind client, ResourceCodec codec) {
    Resource dataplane = codec.readUniversal(view.getDataplaneJson());
    MeshSpec mesh = view.getMeshJson().isEmpty() ? null : codec.readUniversal(view.getMeshJson()).spec(MeshSpec.class);
    return new ProxyInput(view, dataplane.spec(DataplaneSpec.class), mesh, client);
  }

  public String meshName() {
    return view.getMesh();
  }

  public boolean mtls() {
    return view.getMtlsEnabled();
  }

  public boolean proxyless() {
    return client == ClientKind.GRPC;
  }

  /** Transparent proxying settings, or null when the Dataplane does not use it. */
  public DataplaneSpec.TransparentProxying transparentProxying() {
    return dataplane.networking() == null ? null : dataplane.networking().transparentProxying();
  }
}
