package io.trellis.xds.translate;

import com.google.protobuf.util.JsonFormat;

/**
 * Every message type the translators put into an {@code Any}. Printing a resource with this registry
 * unpacks each typed_config, so an unknown or malformed one fails loudly (tests, config dumps).
 */
public final class EnvoyTypes {
  public static final JsonFormat.TypeRegistry REGISTRY = JsonFormat.TypeRegistry.newBuilder()
      .add(io.envoyproxy.envoy.config.listener.v3.Listener.getDescriptor())
      .add(io.envoyproxy.envoy.config.cluster.v3.Cluster.getDescriptor())
      .add(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor())
      .add(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
      .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
      .build();

  private EnvoyTypes() {}

  /** The message inside {@code any}, typed by the registry (dynamic, reflection only). */
  public static com.google.protobuf.Message unpack(com.google.protobuf.Any any)
      throws com.google.protobuf.InvalidProtocolBufferException {
    String name = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
    com.google.protobuf.Descriptors.Descriptor d = REGISTRY.find(name);
    if (d == null) {
      throw new com.google.protobuf.InvalidProtocolBufferException("type " + name + " not in the Envoy type registry");
    }
    return com.google.protobuf.DynamicMessage.parseFrom(d, any.getValue());
  }

  public static JsonFormat.Printer printer() {
    return JsonFormat.printer().usingTypeRegistry(REGISTRY).preservingProtoFieldNames();
  }
}
