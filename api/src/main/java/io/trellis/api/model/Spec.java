package io.trellis.api.model;

/**
 * The kind-specific body of a {@link Resource}: one record per {@link ResourceType}.
 *
 * <p>Optional fields are {@code null} when absent (lists and maps too) so that a resource reads and
 * writes back exactly as given; the codec never writes {@code null}s.
 */
public sealed interface Spec
    permits MeshSpec,
        DataplaneSpec,
        MeshGatewaySpec,
        MeshGatewayRouteSpec,
        ExternalServiceSpec,
        SecretSpec,
        MeshExternalServiceSpec,
        PolicySpec {}
