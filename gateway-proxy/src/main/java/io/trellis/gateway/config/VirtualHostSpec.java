package io.trellis.gateway.config;

import java.util.List;

/** A virtual host: domains ({@code *}, {@code *.example.com}, {@code api.*} or exact) and ordered routes. */
public record VirtualHostSpec(String name, List<String> domains, List<RouteSpec> routes) {}
