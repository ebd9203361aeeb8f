package io.trellis.api.validation;

import static io.trellis.api.model.TargetRef.Kind.Dataplane;
import static io.trellis.api.model.TargetRef.Kind.Mesh;
import static io.trellis.api.model.TargetRef.Kind.MeshExternalService;
import static io.trellis.api.model.TargetRef.Kind.MeshGateway;
import static io.trellis.api.model.TargetRef.Kind.MeshHTTPRoute;
import static io.trellis.api.model.TargetRef.Kind.MeshMultiZoneService;
import static io.trellis.api.model.TargetRef.Kind.MeshService;
import static io.trellis.api.model.TargetRef.Kind.MeshServiceSubset;
import static io.trellis.api.model.TargetRef.Kind.MeshSubset;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.api.model.BackendRef;
import io.trellis.api.model.DataSource;
import io.trellis.api.model.DataplaneSpec;
import io.trellis.api.model.Durations;
import io.trellis.api.model.ExternalServiceSpec;
import io.trellis.api.model.HeaderModifier;
import io.trellis.api.model.HttpHeader;
import io.trellis.api.model.HttpHeaderMatch;
import io.trellis.api.model.MeshAccessLogSpec;
import io.trellis.api.model.MeshCircuitBreakerSpec;
import io.trellis.api.model.MeshExternalServiceSpec;
import io.trellis.api.model.MeshFaultInjectionSpec;
import io.trellis.api.model.MeshGatewayKeyAuthSpec;
import io.trellis.api.model.MeshGatewayRouteSpec;
import io.trellis.api.model.MeshGatewaySpec;
import io.trellis.api.model.MeshHealthCheckSpec;
import io.trellis.api.model.MeshHttpRouteSpec;
import io.trellis.api.model.MeshRateLimitSpec;
import io.trellis.api.model.MeshRetrySpec;
import io.trellis.api.model.MeshSpec;
import io.trellis.api.model.MeshTcpRouteSpec;
import io.trellis.api.model.MeshTimeoutSpec;
import io.trellis.api.model.MeshTrafficPermissionSpec;
import io.trellis.api.model.Meta;
import io.trellis.api.model.PolicyItem;
import io.trellis.api.model.PolicyRule;
import io.trellis.api.model.Resource;
import io.trellis.api.model.SecretSpec;
import io.trellis.api.model.Selector;
import io.trellis.api.model.Spec;
import io.trellis.api.model.TargetRef;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Validation of resources against Kuma 2.x rules (plus Trellis' own kinds).
 *
 * <p>All problems are reported at once. Paths are those of the universal form: top-level fields for
 * old-style kinds ({@code conf.listeners[0].port}, {@code mtls.backends[0].name}), {@code
 * spec.}-prefixed for policies ({@code spec.from[0].default.action}), {@code name}/{@code
 * mesh}/{@code labels} for the metadata. Messages read {@code <path>: <value or problem> (expected:
 * <form>)}.
 */
public final class Validators {
  public static final String SERVICE_TAG = "kuma.io/service";

  private static final Pattern NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");
  private static final String DNS_NAME =
      "[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*";
  private static final Pattern HOSTNAME = Pattern.compile("(?=.{1,253}$)" + DNS_NAME);
  private static final Pattern WILDCARD_HOST = Pattern.compile("(?=.{1,253}$)(\\*\\.)?" + DNS_NAME);
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Set<String> HTTP_METHODS =
      Set.of("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE");

  private static final Set<TargetRef.Kind> TOP_ALL =
      EnumSet.of(
          Mesh, MeshSubset, MeshGateway, MeshService, MeshServiceSubset, Dataplane, MeshHTTPRoute);
  private static final Set<TargetRef.Kind> TOP_NO_ROUTE =
      EnumSet.of(Mesh, MeshSubset, MeshGateway, MeshService, MeshServiceSubset, Dataplane);
  private static final Set<TargetRef.Kind> TO_SERVICES =
      EnumSet.of(Mesh, MeshService, MeshExternalService, MeshMultiZoneService);
  private static final Set<TargetRef.Kind> FROM_MESH = EnumSet.of(Mesh);

  private Validators() {}

  /** Every problem of {@code resource}, empty when it is valid. */
  public static List<FieldError> validate(Resource resource) {
    Errors e = new Errors();
    meta(e, resource);
    try {
      spec(e, resource.spec());
    } catch (NullPointerException npe) {
      // only reachable for records built in code with null list entries: the codec rejects those
      e.add("", "a null list entry (expected: no null entries)");
    }
    return e.list;
  }

  /** Throws a {@link ValidationException} with every problem, returns the resource when valid. */
  public static Resource requireValid(Resource resource) {
    List<FieldError> errors = validate(resource);
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return resource;
  }

  /**
   * Whether {@code name} follows Kuma's naming rules (lowercase RFC 1123 subdomain, at most 253
   * characters).
   */
  public static boolean isValidName(String name) {
    return name != null && name.length() <= 253 && NAME.matcher(name).matches();
  }

  // ---------------------------------------------------------------- meta

  private static void meta(Errors e, Resource r) {
    Meta m = r.meta();
    name(e, "name", m.name());
    if (r.type().isMeshScoped()) {
      name(e, "mesh", m.mesh());
    }
  }

  private static void name(Errors e, String path, String name) {
    if (name == null || name.isEmpty()) {
      e.add(path, "missing (expected: a name)");
    } else if (!isValidName(name)) {
      e.add(path, quote(name) + " (expected: lowercase RFC 1123 name, at most 253 characters)");
    }
  }

  private static void spec(Errors e, Spec spec) {
    if (spec instanceof MeshSpec s) {
      mesh(e, s);
    } else if (spec instanceof DataplaneSpec s) {
      dataplane(e, s);
    } else if (spec instanceof MeshGatewaySpec s) {
      meshGateway(e, s);
    } else if (spec instanceof MeshGatewayRouteSpec s) {
      meshGatewayRoute(e, s);
    } else if (spec instanceof ExternalServiceSpec s) {
      externalService(e, s);
    } else if (spec instanceof MeshExternalServiceSpec s) {
      meshExternalService(e, s);
    } else if (spec instanceof SecretSpec s) {
      secret(e, s);
    } else if (spec instanceof MeshTrafficPermissionSpec s) {
      meshTrafficPermission(e, s);
    } else if (spec instanceof MeshTimeoutSpec s) {
      meshTimeout(e, s);
    } else if (spec instanceof MeshRetrySpec s) {
      meshRetry(e, s);
    } else if (spec instanceof MeshCircuitBreakerSpec s) {
      meshCircuitBreaker(e, s);
    } else if (spec instanceof MeshHealthCheckSpec s) {
      meshHealthCheck(e, s);
    } else if (spec instanceof MeshRateLimitSpec s) {
      meshRateLimit(e, s);
    } else if (spec instanceof MeshFaultInjectionSpec s) {
      meshFaultInjection(e, s);
    } else if (spec instanceof MeshAccessLogSpec s) {
      meshAccessLog(e, s);
    } else if (spec instanceof MeshHttpRouteSpec s) {
      meshHttpRoute(e, s);
    } else if (spec instanceof MeshTcpRouteSpec s) {
      meshTcpRoute(e, s);
    } else if (spec instanceof MeshGatewayKeyAuthSpec s) {
      meshGatewayKeyAuth(e, s);
    } else {
      throw new IllegalStateException("no validator for " + spec.getClass());
    }
  }

  // ---------------------------------------------------------------- Mesh

  private static void mesh(Errors e, MeshSpec s) {
    MeshSpec.Mtls mtls = s.mtls();
    if (mtls == null) {
      return;
    }
    Set<String> names = new HashSet<>();
    List<MeshSpec.Backend> backends = nullToEmpty(mtls.backends());
    for (int i = 0; i < backends.size(); i++) {
      MeshSpec.Backend b = backends.get(i);
      String p = "mtls.backends[" + i + "]";
      if (b == null) {
        e.add(p, "null (expected: a backend)");
        continue;
      }
      if (b.name() == null || b.name().isEmpty()) {
        e.add(p + ".name", "missing (expected: a backend name)");
      } else if (!names.add(b.name())) {
        e.add(p + ".name", quote(b.name()) + " (expected: a unique backend name)");
      }
      if (b.type() == null) {
        e.add(p + ".type", "missing (expected: one of builtin, provided, vault)");
      }
      if (b.dpCert() != null) {
        if (b.dpCert().rotation() != null) {
          duration(e, p + ".dpCert.rotation.expiration", b.dpCert().rotation().expiration());
        }
        duration(e, p + ".dpCert.requestTimeout", b.dpCert().requestTimeout());
      }
      MeshSpec.CaConf conf = b.conf();
      if (conf == null) {
        if (b.type() == MeshSpec.CaType.provided || b.type() == MeshSpec.CaType.vault) {
          e.add(p + ".conf", "missing (expected: " + b.type() + " backend configuration)");
        }
      } else if (conf instanceof MeshSpec.BuiltinConf c) {
        if (c.caCert() != null) {
          Integer bits = c.caCert().rsaBits();
          if (bits != null && bits != 2048 && bits != 4096) {
            e.add(p + ".conf.caCert.RSAbits", bits + " (expected: 2048 or 4096)");
          }
          duration(e, p + ".conf.caCert.expiration", c.caCert().expiration());
        }
      } else if (conf instanceof MeshSpec.ProvidedConf c) {
        requiredDataSource(e, p + ".conf.cert", c.cert());
        requiredDataSource(e, p + ".conf.key", c.key());
      } else if (conf instanceof MeshSpec.VaultConf c) {
        vault(e, p + ".conf", c);
      }
    }
    String enabled = mtls.enabledBackend();
    if (enabled != null && !enabled.isEmpty() && !names.contains(enabled)) {
      e.add(
          "mtls.enabledBackend",
          quote(enabled)
              + " (expected: "
              + (names.isEmpty()
                  ? "a backend defined in mtls.backends"
                  : "one of the backend names: "
                      + backends.stream()
                          .filter(b -> b != null && b.name() != null)
                          .map(MeshSpec.Backend::name)
                          .collect(Collectors.joining(", ")))
              + ")");
    }
  }

  private static void vault(Errors e, String p, MeshSpec.VaultConf c) {
    MeshSpec.FromCp cp = c.fromCp();
    if (cp == null) {
      e.add(p + ".fromCp", "missing (expected: Vault address, pki, role and auth)");
      return;
    }
    p = p + ".fromCp";
    required(e, p + ".address", cp.address(), "a Vault URL like https://vault:8200");
    required(e, p + ".pki", cp.pki(), "a PKI mount path");
    required(e, p + ".role", cp.role(), "a PKI role");
    if (cp.tls() != null) {
      optionalDataSource(e, p + ".tls.caCert", cp.tls().caCert());
      optionalDataSource(e, p + ".tls.clientCert", cp.tls().clientCert());
      optionalDataSource(e, p + ".tls.clientKey", cp.tls().clientKey());
    }
    MeshSpec.VaultAuth auth = cp.auth();
    if (auth == null) {
      e.add(p + ".auth", "missing (expected: one of token, tls, aws, kubernetes)");
      return;
    }
    int methods = count(auth.token(), auth.tls(), auth.aws(), auth.kubernetes());
    if (methods != 1) {
      e.add(
          p + ".auth", methods + " methods (expected: exactly one of token, tls, aws, kubernetes)");
    }
    optionalDataSource(e, p + ".auth.token", auth.token());
    if (auth.tls() != null) {
      requiredDataSource(e, p + ".auth.tls.clientCert", auth.tls().clientCert());
      requiredDataSource(e, p + ".auth.tls.clientKey", auth.tls().clientKey());
    }
    if (auth.kubernetes() != null) {
      required(e, p + ".auth.kubernetes.vaultRole", auth.kubernetes().vaultRole(), "a Vault role");
    }
  }

  // ---------------------------------------------------------------- Dataplane

  private static void dataplane(Errors e, DataplaneSpec s) {
    DataplaneSpec.Networking n = s.networking();
    if (n == null) {
      e.add("networking", "missing (expected: address and inbound or gateway)");
      return;
    }
    address(e, "networking.address", n.address(), true);
    address(e, "networking.advertisedAddress", n.advertisedAddress(), false);
    List<DataplaneSpec.Inbound> inbound = nullToEmpty(n.inbound());
    if (n.gateway() == null && inbound.isEmpty()) {
      e.add(
          "networking.inbound",
          "missing (expected: at least one inbound unless networking.gateway is set)");
    }
    if (n.gateway() != null) {
      if (!inbound.isEmpty()) {
        e.add("networking.inbound", "set (expected: no inbound when networking.gateway is set)");
      }
      if (n.gateway().type() == null && n.gateway().tags() == null) {
        e.add("networking.gateway", "empty (expected: type and tags)");
      }
      serviceTag(e, "networking.gateway.tags", n.gateway().tags());
    }
    for (int i = 0; i < inbound.size(); i++) {
      DataplaneSpec.Inbound in = inbound.get(i);
      String p = "networking.inbound[" + i + "]";
      if (in == null) {
        e.add(p, "null (expected: an inbound)");
        continue;
      }
      port(e, p + ".port", in.port(), true);
      port(e, p + ".servicePort", in.servicePort(), false);
      address(e, p + ".address", in.address(), false);
      address(e, p + ".serviceAddress", in.serviceAddress(), false);
      serviceTag(e, p + ".tags", in.tags());
      if (in.state() != null && !Set.of("Ready", "NotReady", "Ignored").contains(in.state())) {
        e.add(p + ".state", quote(in.state()) + " (expected: one of Ready, NotReady, Ignored)");
      }
    }
    List<DataplaneSpec.Outbound> outbound = nullToEmpty(n.outbound());
    for (int i = 0; i < outbound.size(); i++) {
      DataplaneSpec.Outbound out = outbound.get(i);
      String p = "networking.outbound[" + i + "]";
      if (out == null) {
        e.add(p, "null (expected: an outbound)");
        continue;
      }
      port(e, p + ".port", out.port(), true);
      address(e, p + ".address", out.address(), false);
      if (out.backendRef() == null) {
        serviceTag(e, p + ".tags", out.tags());
      }
    }
    DataplaneSpec.TransparentProxying tp = n.transparentProxying();
    if (tp != null) {
      port(e, "networking.transparentProxying.redirectPortInbound", tp.redirectPortInbound(), true);
      port(
          e,
          "networking.transparentProxying.redirectPortOutbound",
          tp.redirectPortOutbound(),
          true);
      if (tp.ipFamilyMode() != null
          && !Set.of("DualStack", "IPv4", "IPv6").contains(tp.ipFamilyMode())) {
        e.add(
            "networking.transparentProxying.ipFamilyMode",
            quote(tp.ipFamilyMode()) + " (expected: one of DualStack, IPv4, IPv6)");
      }
    }
    if (n.admin() != null) {
      port(e, "networking.admin.port", n.admin().port(), false);
    }
  }

  private static void serviceTag(Errors e, String path, Map<String, String> tags) {
    String service = tags == null ? null : tags.get(SERVICE_TAG);
    if (service == null || service.isEmpty()) {
      e.add(path, "no " + SERVICE_TAG + " tag (expected: a " + SERVICE_TAG + " tag)");
    }
  }

  // ---------------------------------------------------------------- MeshGateway

  private static void meshGateway(Errors e, MeshGatewaySpec s) {
    selectors(e, "selectors", s.selectors());
    if (s.conf() == null) {
      e.add("conf", "missing (expected: conf with listeners)");
      return;
    }
    List<MeshGatewaySpec.Listener> listeners = nullToEmpty(s.conf().listeners());
    if (listeners.isEmpty()) {
      e.add("conf.listeners", "missing (expected: at least one listener)");
    }
    for (int i = 0; i < listeners.size(); i++) {
      MeshGatewaySpec.Listener l = listeners.get(i);
      String p = "conf.listeners[" + i + "]";
      if (l == null) {
        e.add(p, "null (expected: a listener)");
        continue;
      }
      port(e, p + ".port", l.port(), true);
      if (l.protocol() == null) {
        e.add(p + ".protocol", "missing (expected: one of HTTP, HTTPS, TCP, TLS)");
      }
      if (l.hostname() != null && !WILDCARD_HOST.matcher(l.hostname()).matches()) {
        e.add(
            p + ".hostname",
            quote(l.hostname()) + " (expected: a DNS name, optionally starting with *.)");
      }
      if (l.resources() != null
          && l.resources().connectionLimit() != null
          && l.resources().connectionLimit() < 0) {
        e.add(
            p + ".resources.connectionLimit",
            l.resources().connectionLimit() + " (expected: 0 or more)");
      }
      gatewayTls(e, p, l);
    }
  }

  private static void gatewayTls(Errors e, String p, MeshGatewaySpec.Listener l) {
    MeshGatewaySpec.Tls tls = l.tls();
    MeshGatewaySpec.Protocol protocol = l.protocol();
    if (protocol == MeshGatewaySpec.Protocol.HTTPS && tls == null) {
      e.add(p + ".tls", "missing (expected: tls with mode TERMINATE for protocol HTTPS)");
      return;
    }
    if (protocol == MeshGatewaySpec.Protocol.TLS && tls == null) {
      e.add(
          p + ".tls",
          "missing (expected: tls with mode TERMINATE or PASSTHROUGH for protocol TLS)");
      return;
    }
    if (tls == null) {
      return;
    }
    if (protocol == MeshGatewaySpec.Protocol.HTTP || protocol == MeshGatewaySpec.Protocol.TCP) {
      e.add(p + ".tls", "set (expected: no tls for protocol " + protocol + ")");
      return;
    }
    MeshGatewaySpec.TlsMode mode =
        tls.mode() == null ? MeshGatewaySpec.TlsMode.TERMINATE : tls.mode();
    List<DataSource> certs = nullToEmpty(tls.certificates());
    if (mode == MeshGatewaySpec.TlsMode.PASSTHROUGH) {
      if (protocol != MeshGatewaySpec.Protocol.TLS) {
        e.add(p + ".tls.mode", "PASSTHROUGH (expected: TERMINATE for protocol " + protocol + ")");
      }
      if (!certs.isEmpty()) {
        e.add(p + ".tls.certificates", "set (expected: no certificates with mode PASSTHROUGH)");
      }
      return;
    }
    if (certs.isEmpty()) {
      e.add(
          p + ".tls.certificates",
          "missing (expected: at least one certificate for mode TERMINATE)");
    }
    for (int i = 0; i < certs.size(); i++) {
      requiredDataSource(e, p + ".tls.certificates[" + i + "]", certs.get(i));
    }
  }

  private static void selectors(Errors e, String path, List<Selector> selectors) {
    if (selectors == null || selectors.isEmpty()) {
      e.add(path, "missing (expected: at least one selector)");
      return;
    }
    for (int i = 0; i < selectors.size(); i++) {
      Selector sel = selectors.get(i);
      if (sel == null || sel.match() == null || sel.match().isEmpty()) {
        e.add(path + "[" + i + "].match", "missing (expected: at least one tag)");
      }
    }
  }

  // ---------------------------------------------------------------- MeshGatewayRoute

  private static void meshGatewayRoute(Errors e, MeshGatewayRouteSpec s) {
    selectors(e, "selectors", s.selectors());
    MeshGatewayRouteSpec.Conf conf = s.conf();
    if (conf == null || count(conf.http(), conf.tcp()) != 1) {
      e.add(
          "conf",
          (conf == null ? "missing" : count(conf.http(), conf.tcp()) + " route types")
              + " (expected: exactly one of http, tcp)");
      return;
    }
    if (conf.http() != null) {
      List<String> hostnames = nullToEmpty(conf.http().hostnames());
      for (int i = 0; i < hostnames.size(); i++) {
        if (hostnames.get(i) == null || !WILDCARD_HOST.matcher(hostnames.get(i)).matches()) {
          e.add(
              "conf.http.hostnames[" + i + "]",
              describe(hostnames.get(i)) + " (expected: a DNS name, optionally starting with *.)");
        }
      }
      List<MeshGatewayRouteSpec.Rule> rules = nullToEmpty(conf.http().rules());
      if (rules.isEmpty()) {
        e.add("conf.http.rules", "missing (expected: at least one rule)");
      }
      for (int i = 0; i < rules.size(); i++) {
        String p = "conf.http.rules[" + i + "]";
        MeshGatewayRouteSpec.Rule rule = rules.get(i);
        List<MeshGatewayRouteSpec.Match> matches = nullToEmpty(rule.matches());
        for (int j = 0; j < matches.size(); j++) {
          MeshGatewayRouteSpec.Match m = matches.get(j);
          String mp = p + ".matches[" + j + "]";
          if (m.path() != null) {
            if (m.path().value() == null || m.path().value().isEmpty()) {
              e.add(mp + ".path.value", "missing (expected: a path)");
            } else if (m.path().match() != MeshGatewayRouteSpec.MatchType.REGEX
                && !m.path().value().startsWith("/")) {
              e.add(
                  mp + ".path.value",
                  quote(m.path().value()) + " (expected: a path starting with /)");
            }
          }
          if (m.method() != null && !HTTP_METHODS.contains(m.method())) {
            e.add(mp + ".method", quote(m.method()) + " (expected: an HTTP method like GET)");
          }
        }
        gatewayBackends(e, p + ".backends", rule.backends());
      }
    }
    if (conf.tcp() != null) {
      List<MeshGatewayRouteSpec.TcpRule> rules = nullToEmpty(conf.tcp().rules());
      if (rules.isEmpty()) {
        e.add("conf.tcp.rules", "missing (expected: at least one rule)");
      }
      for (int i = 0; i < rules.size(); i++) {
        gatewayBackends(e, "conf.tcp.rules[" + i + "].backends", rules.get(i).backends());
      }
    }
  }

  private static void gatewayBackends(
      Errors e, String path, List<MeshGatewayRouteSpec.Backend> backends) {
    if (backends == null || backends.isEmpty()) {
      e.add(path, "missing (expected: at least one backend)");
      return;
    }
    for (int i = 0; i < backends.size(); i++) {
      MeshGatewayRouteSpec.Backend b = backends.get(i);
      if (b.weight() != null && b.weight() < 0) {
        e.add(path + "[" + i + "].weight", b.weight() + " (expected: 0 or more)");
      }
      serviceTag(e, path + "[" + i + "].destination", b.destination());
    }
  }

  // ---------------------------------------------------------------- ExternalService, Secret

  private static void externalService(Errors e, ExternalServiceSpec s) {
    serviceTag(e, "tags", s.tags());
    if (s.networking() == null) {
      e.add("networking", "missing (expected: networking with address)");
      return;
    }
    String address = s.networking().address();
    if (address == null || address.isEmpty()) {
      e.add("networking.address", "missing (expected: host:port)");
    } else {
      int colon = address.lastIndexOf(':');
      String host = colon < 0 ? address : address.substring(0, colon);
      Integer port = colon < 0 ? null : parsePort(address.substring(colon + 1));
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (port == null || !isAddress(host)) {
        e.add("networking.address", quote(address) + " (expected: host:port with port 1..65535)");
      }
    }
    ExternalServiceSpec.Tls tls = s.networking().tls();
    if (tls != null) {
      optionalDataSource(e, "networking.tls.caCert", tls.caCert());
      optionalDataSource(e, "networking.tls.clientCert", tls.clientCert());
      optionalDataSource(e, "networking.tls.clientKey", tls.clientKey());
      if ((tls.clientCert() == null) != (tls.clientKey() == null)) {
        e.add("networking.tls", "only one of clientCert, clientKey (expected: both or neither)");
      }
    }
  }

  private static void meshExternalService(Errors e, MeshExternalServiceSpec s) {
    MeshExternalServiceSpec.Match match = s.match();
    if (match == null) {
      e.add("spec.match", "missing (expected: type, port and protocol)");
    } else {
      if (match.type() != null && !match.type().equals("HostnameGenerator")) {
        e.add("spec.match.type", quote(match.type()) + " (expected: HostnameGenerator)");
      }
      port(e, "spec.match.port", match.port(), true);
      if (match.protocol() != null
          && !Set.of("tcp", "grpc", "http", "http2").contains(match.protocol())) {
        e.add(
            "spec.match.protocol",
            quote(match.protocol()) + " (expected: one of tcp, grpc, http, http2)");
      }
    }
    List<MeshExternalServiceSpec.Endpoint> endpoints = nullToEmpty(s.endpoints());
    for (int i = 0; i < endpoints.size(); i++) {
      String p = "spec.endpoints[" + i + "]";
      address(e, p + ".address", endpoints.get(i).address(), true);
      port(e, p + ".port", endpoints.get(i).port(), false);
    }
    MeshExternalServiceSpec.Tls tls = s.tls();
    if (tls != null && tls.verification() != null) {
      MeshExternalServiceSpec.Verification v = tls.verification();
      String p = "spec.tls.verification";
      if (v.mode() != null
          && !Set.of("Secured", "SkipSAN", "SkipCA", "SkipAll").contains(v.mode())) {
        e.add(
            p + ".mode", quote(v.mode()) + " (expected: one of Secured, SkipSAN, SkipCA, SkipAll)");
      }
      optionalDataSource(e, p + ".caCert", v.caCert());
      optionalDataSource(e, p + ".clientCert", v.clientCert());
      optionalDataSource(e, p + ".clientKey", v.clientKey());
      if ((v.clientCert() == null) != (v.clientKey() == null)) {
        e.add(p, "only one of clientCert, clientKey (expected: both or neither)");
      }
    }
  }

  private static void secret(Errors e, SecretSpec s) {
    if (s.data() == null || s.data().isEmpty()) {
      e.add("data", "missing (expected: base64 data)");
      return;
    }
    try {
      Base64.getDecoder().decode(s.data().strip());
    } catch (IllegalArgumentException ex) {
      e.add("data", "not base64 (expected: base64 data)"); // never echo secret material
    }
  }

  // ---------------------------------------------------------------- policies

  private static void meshTrafficPermission(Errors e, MeshTrafficPermissionSpec s) {
    topTargetRef(
        e, s.targetRef(), EnumSet.of(Mesh, MeshSubset, MeshService, MeshServiceSubset, Dataplane));
    atLeastOne(e, s.from(), null, null, "from");
    items(
        e,
        "spec.from",
        s.from(),
        EnumSet.of(Mesh, MeshSubset, MeshService, MeshServiceSubset),
        (p, c) -> {
          if (c.action() == null) {
            e.add(p + ".action", "missing (expected: one of Allow, Deny, AllowWithShadowDeny)");
          }
        });
  }

  private static void meshTimeout(Errors e, MeshTimeoutSpec s) {
    topTargetRef(e, s.targetRef(), TOP_ALL);
    atLeastOne(e, s.from(), s.to(), s.rules(), "from, to, rules");
    BiConsumer<String, MeshTimeoutSpec.Conf> conf =
        (p, c) -> {
          duration(e, p + ".connectionTimeout", c.connectionTimeout());
          duration(e, p + ".idleTimeout", c.idleTimeout());
          MeshTimeoutSpec.Http h = c.http();
          if (h != null) {
            duration(e, p + ".http.requestTimeout", h.requestTimeout());
            duration(e, p + ".http.streamIdleTimeout", h.streamIdleTimeout());
            duration(e, p + ".http.maxStreamDuration", h.maxStreamDuration());
            duration(e, p + ".http.maxConnectionDuration", h.maxConnectionDuration());
            duration(e, p + ".http.requestHeadersTimeout", h.requestHeadersTimeout());
          }
        };
    items(e, "spec.from", s.from(), FROM_MESH, conf);
    items(e, "spec.to", s.to(), TO_SERVICES, conf);
    rules(e, s.rules(), conf);
  }

  private static void meshRetry(Errors e, MeshRetrySpec s) {
    topTargetRef(e, s.targetRef(), TOP_ALL);
    atLeastOne(e, null, s.to(), null, "to");
    items(
        e,
        "spec.to",
        s.to(),
        TO_SERVICES,
        (p, c) -> {
          if (c.tcp() != null) {
            min(e, p + ".tcp.maxConnectAttempt", c.tcp().maxConnectAttempt(), 1);
          }
          if (c.http() != null) {
            min(e, p + ".http.numRetries", c.http().numRetries(), 0);
            duration(e, p + ".http.perTryTimeout", c.http().perTryTimeout());
            backOff(e, p + ".http.backOff", c.http().backOff());
            headerMatches(
                e, p + ".http.retriableResponseHeaders", c.http().retriableResponseHeaders());
            headerMatches(
                e, p + ".http.retriableRequestHeaders", c.http().retriableRequestHeaders());
          }
          if (c.grpc() != null) {
            min(e, p + ".grpc.numRetries", c.grpc().numRetries(), 0);
            duration(e, p + ".grpc.perTryTimeout", c.grpc().perTryTimeout());
            backOff(e, p + ".grpc.backOff", c.grpc().backOff());
          }
        });
  }

  private static void backOff(Errors e, String p, MeshRetrySpec.BackOff b) {
    if (b != null) {
      duration(e, p + ".baseInterval", b.baseInterval());
      duration(e, p + ".maxInterval", b.maxInterval());
    }
  }

  private static void meshCircuitBreaker(Errors e, MeshCircuitBreakerSpec s) {
    topTargetRef(e, s.targetRef(), TOP_NO_ROUTE);
    atLeastOne(e, s.from(), s.to(), s.rules(), "from, to, rules");
    BiConsumer<String, MeshCircuitBreakerSpec.Conf> conf =
        (p, c) -> {
          MeshCircuitBreakerSpec.ConnectionLimits l = c.connectionLimits();
          if (l != null) {
            min(e, p + ".connectionLimits.maxConnections", l.maxConnections(), 1);
            min(e, p + ".connectionLimits.maxPendingRequests", l.maxPendingRequests(), 1);
            min(e, p + ".connectionLimits.maxRequests", l.maxRequests(), 1);
            min(e, p + ".connectionLimits.maxRetries", l.maxRetries(), 0);
            min(e, p + ".connectionLimits.maxConnectionPools", l.maxConnectionPools(), 1);
          }
          MeshCircuitBreakerSpec.OutlierDetection o = c.outlierDetection();
          if (o != null) {
            duration(e, p + ".outlierDetection.interval", o.interval());
            duration(e, p + ".outlierDetection.baseEjectionTime", o.baseEjectionTime());
            percent(e, p + ".outlierDetection.maxEjectionPercent", o.maxEjectionPercent());
            MeshCircuitBreakerSpec.Detectors d = o.detectors();
            if (d != null) {
              consecutive(e, p + ".outlierDetection.detectors.totalFailures", d.totalFailures());
              consecutive(
                  e, p + ".outlierDetection.detectors.gatewayFailures", d.gatewayFailures());
              consecutive(
                  e,
                  p + ".outlierDetection.detectors.localOriginFailures",
                  d.localOriginFailures());
              if (d.failurePercentage() != null) {
                percent(
                    e,
                    p + ".outlierDetection.detectors.failurePercentage.threshold",
                    d.failurePercentage().threshold());
              }
            }
          }
        };
    items(e, "spec.from", s.from(), FROM_MESH, conf);
    items(e, "spec.to", s.to(), TO_SERVICES, conf);
    rules(e, s.rules(), conf);
  }

  private static void consecutive(Errors e, String p, MeshCircuitBreakerSpec.Consecutive c) {
    if (c != null) {
      min(e, p + ".consecutive", c.consecutive(), 1);
    }
  }

  private static void meshHealthCheck(Errors e, MeshHealthCheckSpec s) {
    topTargetRef(e, s.targetRef(), TOP_NO_ROUTE);
    atLeastOne(e, null, s.to(), null, "to");
    items(
        e,
        "spec.to",
        s.to(),
        TO_SERVICES,
        (p, c) -> {
          duration(e, p + ".interval", c.interval());
          duration(e, p + ".timeout", c.timeout());
          duration(e, p + ".initialJitter", c.initialJitter());
          duration(e, p + ".intervalJitter", c.intervalJitter());
          duration(e, p + ".noTrafficInterval", c.noTrafficInterval());
          min(e, p + ".unhealthyThreshold", c.unhealthyThreshold(), 1);
          min(e, p + ".healthyThreshold", c.healthyThreshold(), 1);
          percent(e, p + ".intervalJitterPercent", c.intervalJitterPercent());
          if (c.http() != null) {
            if (c.http().path() != null && !c.http().path().startsWith("/")) {
              e.add(
                  p + ".http.path", quote(c.http().path()) + " (expected: a path starting with /)");
            }
            List<Integer> statuses = nullToEmpty(c.http().expectedStatuses());
            for (int i = 0; i < statuses.size(); i++) {
              status(e, p + ".http.expectedStatuses[" + i + "]", statuses.get(i));
            }
            headerModifier(e, p + ".http.requestHeadersToAdd", c.http().requestHeadersToAdd());
          }
        });
  }

  private static void meshRateLimit(Errors e, MeshRateLimitSpec s) {
    topTargetRef(e, s.targetRef(), TOP_ALL);
    atLeastOne(e, s.from(), s.to(), s.rules(), "from, to, rules");
    BiConsumer<String, MeshRateLimitSpec.Conf> conf =
        (p, c) -> {
          if (c.local() == null) {
            e.add(p + ".local", "missing (expected: local http or tcp rate limit)");
            return;
          }
          MeshRateLimitSpec.Http http = c.local().http();
          if (http != null && !Boolean.TRUE.equals(http.disabled())) {
            rate(e, p + ".local.http.requestRate", http.requestRate());
            if (http.onRateLimit() != null) {
              status(e, p + ".local.http.onRateLimit.status", http.onRateLimit().status());
              headerModifier(
                  e, p + ".local.http.onRateLimit.headers", http.onRateLimit().headers());
            }
          }
          MeshRateLimitSpec.Tcp tcp = c.local().tcp();
          if (tcp != null && !Boolean.TRUE.equals(tcp.disabled())) {
            rate(e, p + ".local.tcp.connectionRate", tcp.connectionRate());
          }
        };
    items(e, "spec.from", s.from(), FROM_MESH, conf);
    items(e, "spec.to", s.to(), FROM_MESH, conf);
    rules(e, s.rules(), conf);
  }

  private static void rate(Errors e, String p, MeshRateLimitSpec.Rate rate) {
    if (rate == null) {
      e.add(p, "missing (expected: num and interval)");
      return;
    }
    if (rate.num() == null) {
      e.add(p + ".num", "missing (expected: 1 or more)");
    } else {
      min(e, p + ".num", rate.num(), 1);
    }
    if (rate.interval() == null) {
      e.add(p + ".interval", "missing (expected: " + Durations.EXPECTED + ")");
    } else if (Durations.isValid(rate.interval())
        && Durations.parse(rate.interval()).toMillis() < 50) {
      e.add(p + ".interval", quote(rate.interval()) + " (expected: at least 50ms)");
    } else {
      duration(e, p + ".interval", rate.interval());
    }
  }

  private static void meshFaultInjection(Errors e, MeshFaultInjectionSpec s) {
    topTargetRef(e, s.targetRef(), TOP_NO_ROUTE);
    atLeastOne(e, s.from(), s.to(), null, "from, to");
    BiConsumer<String, MeshFaultInjectionSpec.Conf> conf =
        (p, c) -> {
          List<MeshFaultInjectionSpec.Http> http = nullToEmpty(c.http());
          for (int i = 0; i < http.size(); i++) {
            String hp = p + ".http[" + i + "]";
            MeshFaultInjectionSpec.Http h = http.get(i);
            if (h.abort() != null) {
              if (h.abort().httpStatus() == null) {
                e.add(hp + ".abort.httpStatus", "missing (expected: 100..599)");
              }
              status(e, hp + ".abort.httpStatus", h.abort().httpStatus());
              percentage(e, hp + ".abort.percentage", h.abort().percentage());
            }
            if (h.delay() != null) {
              if (h.delay().value() == null) {
                e.add(hp + ".delay.value", "missing (expected: " + Durations.EXPECTED + ")");
              }
              duration(e, hp + ".delay.value", h.delay().value());
              percentage(e, hp + ".delay.percentage", h.delay().percentage());
            }
            if (h.responseBandwidth() != null) {
              String limit = h.responseBandwidth().limit();
              if (limit == null || !limit.matches("\\d+(kbps|Mbps|Gbps)")) {
                e.add(
                    hp + ".responseBandwidth.limit",
                    describe(limit) + " (expected: bandwidth like 10kbps, 5Mbps)");
              }
              percentage(
                  e, hp + ".responseBandwidth.percentage", h.responseBandwidth().percentage());
            }
          }
        };
    items(
        e,
        "spec.from",
        s.from(),
        EnumSet.of(Mesh, MeshSubset, MeshService, MeshServiceSubset),
        conf);
    items(e, "spec.to", s.to(), EnumSet.of(Mesh, MeshService), conf);
  }

  private static void meshAccessLog(Errors e, MeshAccessLogSpec s) {
    topTargetRef(e, s.targetRef(), TOP_NO_ROUTE);
    atLeastOne(e, s.from(), s.to(), s.rules(), "from, to, rules");
    BiConsumer<String, MeshAccessLogSpec.Conf> conf =
        (p, c) -> {
          List<MeshAccessLogSpec.Backend> backends = nullToEmpty(c.backends());
          for (int i = 0; i < backends.size(); i++) {
            String bp = p + ".backends[" + i + "]";
            MeshAccessLogSpec.Backend b = backends.get(i);
            int n = count(b.file(), b.tcp(), b.openTelemetry());
            if (n != 1) {
              e.add(bp, n + " backends (expected: exactly one of file, tcp, openTelemetry)");
              continue;
            }
            if (b.file() != null) {
              required(e, bp + ".file.path", b.file().path(), "a file path");
              format(e, bp + ".file.format", b.file().format());
            }
            if (b.tcp() != null) {
              required(e, bp + ".tcp.address", b.tcp().address(), "host:port");
              format(e, bp + ".tcp.format", b.tcp().format());
            }
            if (b.openTelemetry() != null) {
              required(
                  e, bp + ".openTelemetry.endpoint", b.openTelemetry().endpoint(), "host:port");
            }
          }
        };
    items(e, "spec.from", s.from(), FROM_MESH, conf);
    items(e, "spec.to", s.to(), TO_SERVICES, conf);
    rules(e, s.rules(), conf);
  }

  private static void format(Errors e, String p, MeshAccessLogSpec.Format f) {
    if (f == null) {
      return;
    }
    if (f.type() == MeshAccessLogSpec.FormatType.Plain && f.plain() == null) {
      e.add(p + ".plain", "missing (expected: a format string for type Plain)");
    }
    if (f.type() == MeshAccessLogSpec.FormatType.Json && (f.json() == null || f.json().isEmpty())) {
      e.add(p + ".json", "missing (expected: key/value pairs for type Json)");
    }
  }

  private static void meshHttpRoute(Errors e, MeshHttpRouteSpec s) {
    topTargetRef(e, s.targetRef(), TOP_NO_ROUTE);
    List<MeshHttpRouteSpec.To> to = nullToEmpty(s.to());
    if (to.isEmpty()) {
      e.add("spec.to", "missing (expected: at least one entry)");
    }
    for (int i = 0; i < to.size(); i++) {
      String p = "spec.to[" + i + "]";
      MeshHttpRouteSpec.To t = to.get(i);
      // on a builtin gateway the route's destinations come from backendRefs: Kuma allows only Mesh
      // here
      boolean onGateway = s.targetRef() != null && s.targetRef().kind() == MeshGateway;
      targetRef(
          e, p + ".targetRef", t.targetRef(), onGateway ? EnumSet.of(Mesh) : TO_SERVICES, true);
      List<String> hostnames = nullToEmpty(t.hostnames());
      for (int h = 0; h < hostnames.size(); h++) {
        if (hostnames.get(h) == null || !WILDCARD_HOST.matcher(hostnames.get(h)).matches()) {
          e.add(
              p + ".hostnames[" + h + "]",
              describe(hostnames.get(h)) + " (expected: a DNS name, optionally starting with *.)");
        }
      }
      List<MeshHttpRouteSpec.Rule> rules = nullToEmpty(t.rules());
      if (rules.isEmpty()) {
        e.add(p + ".rules", "missing (expected: at least one rule)");
      }
      for (int r = 0; r < rules.size(); r++) {
        httpRule(e, p + ".rules[" + r + "]", rules.get(r));
      }
    }
  }

  private static void httpRule(Errors e, String p, MeshHttpRouteSpec.Rule rule) {
    List<MeshHttpRouteSpec.Match> matches = nullToEmpty(rule.matches());
    for (int m = 0; m < matches.size(); m++) {
      String mp = p + ".matches[" + m + "]";
      MeshHttpRouteSpec.Match match = matches.get(m);
      if (match.path() != null) {
        String value = match.path().value();
        if (match.path().type() == null) {
          e.add(
              mp + ".path.type", "missing (expected: one of Exact, PathPrefix, RegularExpression)");
        }
        if (value == null || value.isEmpty()) {
          e.add(mp + ".path.value", "missing (expected: a path)");
        } else if (match.path().type() != MeshHttpRouteSpec.PathMatchType.RegularExpression
            && !value.startsWith("/")) {
          e.add(mp + ".path.value", quote(value) + " (expected: a path starting with /)");
        } else if (match.path().type() == MeshHttpRouteSpec.PathMatchType.PathPrefix
            && value.length() > 1
            && value.endsWith("/")) {
          e.add(mp + ".path.value", quote(value) + " (expected: a prefix without trailing /)");
        }
      }
      if (match.method() != null && !HTTP_METHODS.contains(match.method())) {
        e.add(mp + ".method", quote(match.method()) + " (expected: an HTTP method like GET)");
      }
      headerMatches(e, mp + ".headers", match.headers());
      headerMatches(e, mp + ".queryParams", match.queryParams());
    }
    MeshHttpRouteSpec.Conf conf = rule.conf();
    if (conf == null) {
      e.add(p + ".default", "missing (expected: filters or backendRefs)");
      return;
    }
    List<MeshHttpRouteSpec.Filter> filters = nullToEmpty(conf.filters());
    for (int f = 0; f < filters.size(); f++) {
      String fp = p + ".default.filters[" + f + "]";
      MeshHttpRouteSpec.Filter filter = filters.get(f);
      if (filter.type() == null) {
        e.add(
            fp + ".type",
            "missing (expected: one of RequestHeaderModifier, ResponseHeaderModifier, "
                + "RequestRedirect, URLRewrite, RequestMirror)");
        continue;
      }
      Object body =
          switch (filter.type()) {
            case RequestHeaderModifier -> filter.requestHeaderModifier();
            case ResponseHeaderModifier -> filter.responseHeaderModifier();
            case RequestRedirect -> filter.requestRedirect();
            case URLRewrite -> filter.urlRewrite();
            case RequestMirror -> filter.requestMirror();
          };
      String field =
          switch (filter.type()) {
            case URLRewrite -> "urlRewrite";
            default ->
                Character.toLowerCase(filter.type().name().charAt(0))
                    + filter.type().name().substring(1);
          };
      if (body == null) {
        e.add(fp + "." + field, "missing (expected: " + field + " for type " + filter.type() + ")");
      }
      headerModifier(e, fp + ".requestHeaderModifier", filter.requestHeaderModifier());
      headerModifier(e, fp + ".responseHeaderModifier", filter.responseHeaderModifier());
    }
    backendRefs(e, p + ".default.backendRefs", conf.backendRefs());
  }

  private static void meshTcpRoute(Errors e, MeshTcpRouteSpec s) {
    topTargetRef(e, s.targetRef(), TOP_NO_ROUTE);
    List<MeshTcpRouteSpec.To> to = nullToEmpty(s.to());
    if (to.isEmpty()) {
      e.add("spec.to", "missing (expected: at least one entry)");
    }
    for (int i = 0; i < to.size(); i++) {
      String p = "spec.to[" + i + "]";
      boolean onGateway = s.targetRef() != null && s.targetRef().kind() == MeshGateway;
      targetRef(
          e,
          p + ".targetRef",
          to.get(i).targetRef(),
          onGateway ? EnumSet.of(Mesh) : TO_SERVICES,
          true);
      List<MeshTcpRouteSpec.Rule> rules = nullToEmpty(to.get(i).rules());
      if (rules.size() != 1) {
        e.add(p + ".rules", rules.size() + " rules (expected: exactly one rule)");
      }
      for (int r = 0; r < rules.size(); r++) {
        MeshTcpRouteSpec.Conf conf = rules.get(r).conf();
        if (conf == null || conf.backendRefs() == null || conf.backendRefs().isEmpty()) {
          e.add(
              p + ".rules[" + r + "].default.backendRefs",
              "missing (expected: at least one backendRef)");
        } else {
          backendRefs(e, p + ".rules[" + r + "].default.backendRefs", conf.backendRefs());
        }
      }
    }
  }

  private static void backendRefs(Errors e, String p, List<BackendRef> refs) {
    List<BackendRef> list = nullToEmpty(refs);
    for (int i = 0; i < list.size(); i++) {
      BackendRef ref = list.get(i);
      String bp = p + "[" + i + "]";
      if (ref.kind() == null) {
        e.add(
            bp + ".kind",
            "missing (expected: one of MeshService, MeshServiceSubset, MeshExternalService, "
                + "MeshMultiZoneService)");
      } else if (!EnumSet.of(
              MeshService, MeshServiceSubset, MeshExternalService, MeshMultiZoneService)
          .contains(ref.kind())) {
        e.add(
            bp + ".kind",
            ref.kind()
                + " (expected: one of MeshService, MeshServiceSubset, "
                + "MeshExternalService, MeshMultiZoneService)");
      } else if ((ref.name() == null || ref.name().isEmpty()) && ref.labels() == null) {
        e.add(bp + ".name", "missing (expected: name for kind " + ref.kind() + ")");
      }
      if (ref.kind() == MeshServiceSubset && (ref.tags() == null || ref.tags().isEmpty())) {
        e.add(bp + ".tags", "missing (expected: tags for kind MeshServiceSubset)");
      }
      port(e, bp + ".port", ref.port(), false);
      min(e, bp + ".weight", ref.weight(), 0);
    }
  }

  private static void meshGatewayKeyAuth(Errors e, MeshGatewayKeyAuthSpec s) {
    targetRef(e, "spec.targetRef", s.targetRef(), EnumSet.of(MeshGateway, MeshHTTPRoute), true);
    MeshGatewayKeyAuthSpec.Conf conf = s.conf();
    if (conf != null) {
      List<String> keyNames = nullToEmpty(conf.keyNames());
      for (int i = 0; i < keyNames.size(); i++) {
        String k = keyNames.get(i);
        if (k == null || !k.matches("[A-Za-z0-9_.-]+")) {
          e.add(
              "spec.default.keyNames[" + i + "]",
              describe(k) + " (expected: a header or parameter name)");
        }
      }
      if (!conf.effectiveKeyInHeader()
          && !conf.effectiveKeyInQuery()
          && !conf.effectiveKeyInBody()) {
        e.add(
            "spec.default",
            "no key location (expected: one of keyInHeader, keyInQuery, keyInBody true)");
      }
    }
    List<MeshGatewayKeyAuthSpec.Consumer> consumers = nullToEmpty(s.consumers());
    Set<String> usernames = new HashSet<>();
    for (int i = 0; i < consumers.size(); i++) {
      String p = "spec.consumers[" + i + "]";
      MeshGatewayKeyAuthSpec.Consumer c = consumers.get(i);
      if (c.username() == null || c.username().isEmpty()) {
        e.add(p + ".username", "missing (expected: a username)");
      } else if (!usernames.add(c.username())) {
        e.add(p + ".username", quote(c.username()) + " (expected: a unique username)");
      }
      List<MeshGatewayKeyAuthSpec.Key> keys = nullToEmpty(c.keys());
      if (keys.isEmpty()) {
        e.add(p + ".keys", "missing (expected: at least one key)");
      }
      for (int k = 0; k < keys.size(); k++) {
        MeshGatewayKeyAuthSpec.Key key = keys.get(k);
        String kp = p + ".keys[" + k + "]";
        if (count(key.secret(), key.sha256()) != 1) {
          e.add(
              kp,
              count(key.secret(), key.sha256())
                  + " sources (expected: exactly one of secret, sha256)");
        } else if (key.sha256() != null && !SHA256.matcher(key.sha256()).matches()) {
          // never echo: it may be a plain key pasted by mistake
          e.add(kp + ".sha256", "not a SHA-256 digest (expected: 64 lowercase hex digits)");
        } else if (key.secret() != null && !isValidName(key.secret())) {
          e.add(kp + ".secret", quote(key.secret()) + " (expected: a Secret name)");
        }
      }
    }
    if (conf != null && conf.anonymous() != null && !usernames.contains(conf.anonymous())) {
      e.add(
          "spec.default.anonymous",
          quote(conf.anonymous()) + " (expected: the username of a consumer)");
    }
  }

  // ---------------------------------------------------------------- shared rules

  private static void topTargetRef(Errors e, TargetRef ref, Set<TargetRef.Kind> allowed) {
    targetRef(e, "spec.targetRef", ref, allowed, false);
  }

  private static void targetRef(
      Errors e, String p, TargetRef ref, Set<TargetRef.Kind> allowed, boolean required) {
    if (ref == null) {
      if (required) {
        e.add(p, "missing (expected: a targetRef with kind " + kinds(allowed) + ")");
      }
      return;
    }
    if (ref.kind() == null) {
      e.add(p + ".kind", "missing (expected: one of " + kinds(allowed) + ")");
      return;
    }
    if (!allowed.contains(ref.kind())) {
      e.add(p + ".kind", ref.kind() + " (expected: one of " + kinds(allowed) + ")");
      return;
    }
    switch (ref.kind()) {
      case Mesh -> {
        if (ref.name() != null) {
          e.add(p + ".name", quote(ref.name()) + " (expected: no name for kind Mesh)");
        }
        if (ref.tags() != null && !ref.tags().isEmpty()) {
          e.add(p + ".tags", "set (expected: no tags for kind Mesh)");
        }
      }
      case MeshSubset -> {
        if (ref.tags() == null || ref.tags().isEmpty()) {
          e.add(p + ".tags", "missing (expected: tags for kind MeshSubset)");
        }
      }
      case MeshServiceSubset -> {
        requiredName(e, p, ref);
        if (ref.tags() == null || ref.tags().isEmpty()) {
          e.add(p + ".tags", "missing (expected: tags for kind MeshServiceSubset)");
        }
      }
      case MeshService, MeshExternalService, MeshMultiZoneService, MeshGateway, MeshHTTPRoute -> {
        if (ref.labels() == null || ref.kind() == MeshGateway || ref.kind() == MeshHTTPRoute) {
          requiredName(e, p, ref);
        }
      }
      case Dataplane -> {}
    }
  }

  private static void requiredName(Errors e, String p, TargetRef ref) {
    if (ref.name() == null || ref.name().isEmpty()) {
      e.add(p + ".name", "missing (expected: name for kind " + ref.kind() + ")");
    }
  }

  private static String kinds(Set<TargetRef.Kind> kinds) {
    return kinds.stream().map(Enum::name).collect(Collectors.joining(", "));
  }

  private static void atLeastOne(Errors e, List<?> from, List<?> to, List<?> rules, String names) {
    if (isEmpty(from) && isEmpty(to) && isEmpty(rules)) {
      e.add(
          "spec",
          "no " + names.replace(", ", "/") + " entries (expected: at least one of " + names + ")");
    }
  }

  private static <D> void items(
      Errors e,
      String p,
      List<PolicyItem<D>> items,
      Set<TargetRef.Kind> allowed,
      BiConsumer<String, D> conf) {
    List<PolicyItem<D>> list = nullToEmpty(items);
    for (int i = 0; i < list.size(); i++) {
      String ip = p + "[" + i + "]";
      PolicyItem<D> item = list.get(i);
      if (item == null) {
        e.add(ip, "null (expected: targetRef and default)");
        continue;
      }
      targetRef(e, ip + ".targetRef", item.targetRef(), allowed, true);
      if (item.conf() == null) {
        e.add(ip + ".default", "missing (expected: the configuration to apply)");
      } else {
        conf.accept(ip + ".default", item.conf());
      }
    }
  }

  private static <D> void rules(Errors e, List<PolicyRule<D>> rules, BiConsumer<String, D> conf) {
    List<PolicyRule<D>> list = nullToEmpty(rules);
    for (int i = 0; i < list.size(); i++) {
      String ip = "spec.rules[" + i + "]";
      if (list.get(i) == null || list.get(i).conf() == null) {
        e.add(ip + ".default", "missing (expected: the configuration to apply)");
      } else {
        conf.accept(ip + ".default", list.get(i).conf());
      }
    }
  }

  private static void headerMatches(Errors e, String p, List<HttpHeaderMatch> matches) {
    List<HttpHeaderMatch> list = nullToEmpty(matches);
    for (int i = 0; i < list.size(); i++) {
      HttpHeaderMatch m = list.get(i);
      if (m.name() == null || m.name().isEmpty()) {
        e.add(p + "[" + i + "].name", "missing (expected: a header name)");
      }
      boolean valueless =
          m.type() == HttpHeaderMatch.MatchType.Present
              || m.type() == HttpHeaderMatch.MatchType.Absent;
      if (!valueless && m.value() == null) {
        e.add(
            p + "[" + i + "].value",
            "missing (expected: a value for type " + (m.type() == null ? "Exact" : m.type()) + ")");
      }
    }
  }

  private static void headerModifier(Errors e, String p, HeaderModifier mod) {
    if (mod == null) {
      return;
    }
    List<HttpHeader> all = new ArrayList<>(nullToEmpty(mod.add()));
    all.addAll(nullToEmpty(mod.set()));
    for (HttpHeader h : nullToEmpty(mod.add())) {
      if (h.name() == null || h.name().isEmpty()) {
        e.add(p + ".add", "header without name (expected: name and value)");
      }
    }
    for (HttpHeader h : nullToEmpty(mod.set())) {
      if (h.name() == null || h.name().isEmpty()) {
        e.add(p + ".set", "header without name (expected: name and value)");
      }
    }
  }

  private static void duration(Errors e, String p, String value) {
    if (value != null && !Durations.isValid(value)) {
      e.add(p, quote(value) + " (expected: " + Durations.EXPECTED + ")");
    }
  }

  private static void port(Errors e, String p, Integer port, boolean required) {
    if (port == null) {
      if (required) {
        e.add(p, "missing (expected: 1..65535)");
      }
    } else if (port < 1 || port > 65535) {
      e.add(p, port + " (expected: 1..65535)");
    }
  }

  private static void status(Errors e, String p, Integer status) {
    if (status != null && (status < 100 || status > 599)) {
      e.add(p, status + " (expected: 100..599)");
    }
  }

  private static void min(Errors e, String p, Integer value, int min) {
    if (value != null && value < min) {
      e.add(p, value + " (expected: " + min + " or more)");
    }
  }

  private static void percent(Errors e, String p, Integer value) {
    if (value != null && (value < 0 || value > 100)) {
      e.add(p, value + " (expected: 0..100)");
    }
  }

  private static void percentage(Errors e, String p, JsonNode value) {
    if (value == null) {
      return;
    }
    double d;
    if (value.isNumber()) {
      d = value.asDouble();
    } else if (value.isTextual() && value.asText().matches("\\d+(\\.\\d+)?")) {
      d = Double.parseDouble(value.asText());
    } else {
      e.add(p, value + " (expected: 0..100)");
      return;
    }
    if (d < 0 || d > 100) {
      e.add(p, value + " (expected: 0..100)");
    }
  }

  private static void required(Errors e, String p, String value, String expected) {
    if (value == null || value.isEmpty()) {
      e.add(p, "missing (expected: " + expected + ")");
    }
  }

  private static void requiredDataSource(Errors e, String p, DataSource ds) {
    if (ds == null) {
      e.add(p, "missing (expected: one of secret, file, inline, inlineString)");
      return;
    }
    optionalDataSource(e, p, ds);
  }

  private static void optionalDataSource(Errors e, String p, DataSource ds) {
    if (ds == null) {
      return;
    }
    int n = count(ds.secret(), ds.file(), ds.inline(), ds.inlineString());
    if (n != 1) {
      e.add(p, n + " sources (expected: exactly one of secret, file, inline, inlineString)");
    }
  }

  private static void address(Errors e, String p, String address, boolean required) {
    if (address == null || address.isEmpty()) {
      if (required) {
        e.add(p, "missing (expected: an IP address or hostname)");
      }
      return;
    }
    if (!isAddress(address)) {
      e.add(p, quote(address) + " (expected: an IP address or hostname)");
    }
  }

  private static boolean isAddress(String s) {
    if (IPV4.matcher(s).matches()) {
      return true;
    }
    if (s.contains(":")) {
      return IPV6.matcher(s).matches() && s.length() <= 45;
    }
    return !s.matches("[0-9.]+") && HOSTNAME.matcher(s).matches();
  }

  private static Integer parsePort(String s) {
    if (!s.matches("\\d{1,5}")) {
      return null;
    }
    int port = Integer.parseInt(s);
    return port >= 1 && port <= 65535 ? port : null;
  }

  private static int count(Object... values) {
    int n = 0;
    for (Object v : values) {
      if (v != null) {
        n++;
      }
    }
    return n;
  }

  private static boolean isEmpty(List<?> list) {
    return list == null || list.isEmpty();
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static String describe(String s) {
    return s == null ? "missing" : quote(s);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static final class Errors {
    final List<FieldError> list = new ArrayList<>();

    void add(String path, String message) {
      list.add(new FieldError(path, message));
    }
  }
}
