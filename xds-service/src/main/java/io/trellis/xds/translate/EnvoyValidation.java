package io.trellis.xds.translate;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.envoyproxy.pgv.validate.Validate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Envoy's protoc-gen-validate constraints, checked by reflection. java-control-plane's {@code api} jar
 * ships the {@code validate.rules} annotations on every Envoy message but no generated PGV validators, so
 * this interprets the annotations the way Envoy does on config load ({@code MessageUtil::validate}): field
 * rules (strings, numbers, enums, durations, repeated, maps, wrappers), required messages and oneofs, and
 * the contents of every {@code Any} unpacked with the Envoy type registry (as Envoy validates a
 * {@code typed_config} against its own type). A resource that fails here would be NACKed by Envoy.
 */
public final class EnvoyValidation {
  private static final int EXT = 1071; // validate.rules / validate.required / validate.disabled
  private static final Map<FieldDescriptor, Validate.FieldRules> FIELD_RULES = new ConcurrentHashMap<>();
  private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();
  private static final Pattern HEADER_NAME = Pattern.compile("^:?[0-9a-zA-Z!#$%&'*+\\-.^_|~`]+$");
  private static final Pattern HEADER_VALUE = Pattern.compile("^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$");
  private static final java.util.Set<String> WRAPPERS = java.util.Set.of("google.protobuf.DoubleValue",
      "google.protobuf.FloatValue", "google.protobuf.Int64Value", "google.protobuf.UInt64Value", "google.protobuf.Int32Value",
      "google.protobuf.UInt32Value", "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue");
  private static final Pattern HEADER_LOOSE = Pattern.compile("^[^\\x00\\n\\r]*$");

  private EnvoyValidation() {}

  /** Violations of {@code message}, each as {@code <type>.<field path>: <value> (expected: <rule>)}; empty when valid. */
  public static List<String> violations(Message message) {
    List<String> out = new ArrayList<>();
    message(message, message.getDescriptorForType().getName(), out);
    return out;
  }

  /** Throws a {@link TranslationException} naming every violation in {@code messages}. */
  public static void check(List<? extends Message> messages) {
    List<String> all = new ArrayList<>();
    for (Message m : messages) {
      all.addAll(violations(m));
    }
    if (!all.isEmpty()) {
      throw new TranslationException("Envoy validation failed: " + String.join("; ", all));
    }
  }

  private static void message(Message m, String path, List<String> out) {
    Descriptor d = m.getDescriptorForType();
    if (d.getFullName().equals(Any.getDescriptor().getFullName())) {
      any(m, path, out);
      return;
    }
    DescriptorProtos.MessageOptions mo = d.getOptions();
    if (mo.hasExtension(Validate.disabled) && mo.getExtension(Validate.disabled)
        || mo.hasExtension(Validate.ignored) && mo.getExtension(Validate.ignored)) {
      return;
    }
    for (OneofDescriptor o : d.getRealOneofs()) {
      if (required(o) && !m.hasOneof(o)) {
        out.add(path + "." + o.getName() + ": unset (expected: exactly one of " + o.getFields().stream()
            .map(FieldDescriptor::getName).toList() + ")");
      }
    }
    for (FieldDescriptor f : d.getFields()) {
      String fp = path + "." + f.getName();
      Validate.FieldRules rules = rules(f);
      if (f.isMapField()) {
        map(m, f, rules, fp, out);
      } else if (f.isRepeated()) {
        repeated(m, f, rules, fp, out);
      } else {
        boolean present = f.hasPresence() ? m.hasField(f) : true;
        if (f.getRealContainingOneof() != null && !m.hasField(f)) {
          continue; // rules of an unset oneof member do not apply
        }
        single(f, present ? m.getField(f) : null, rules, fp, out);
      }
    }
  }

  private static boolean required(OneofDescriptor o) {
    DescriptorProtos.OneofOptions opts = o.getOptions();
    if (opts.hasExtension(Validate.required)) {
      return opts.getExtension(Validate.required);
    }
    UnknownFieldSet.Field u = opts.getUnknownFields().getField(EXT);
    return u != null && !u.getVarintList().isEmpty() && u.getVarintList().get(0) != 0;
  }

  static Validate.FieldRules rules(FieldDescriptor f) {
    return FIELD_RULES.computeIfAbsent(f, x -> {
      DescriptorProtos.FieldOptions opts = x.getOptions();
      if (opts.hasExtension(Validate.rules)) {
        return opts.getExtension(Validate.rules);
      }
      UnknownFieldSet.Field u = opts.getUnknownFields().getField(EXT);
      if (u != null && !u.getLengthDelimitedList().isEmpty()) {
        try {
          return Validate.FieldRules.parseFrom(u.getLengthDelimitedList().get(0));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("unreadable validate.rules on " + x.getFullName(), e);
        }
      }
      return Validate.FieldRules.getDefaultInstance();
    });
  }

  private static void repeated(Message m, FieldDescriptor f, Validate.FieldRules rules, String fp, List<String> out) {
    int n = m.getRepeatedFieldCount(f);
    Validate.RepeatedRules r = rules.getRepeated();
    if (rules.hasRepeated() && !(r.getIgnoreEmpty() && n == 0)) {
      if (r.hasMinItems() && n < r.getMinItems()) {
        out.add(fp + ": " + n + " items (expected: at least " + r.getMinItems() + ")");
      }
      if (r.hasMaxItems() && n > r.getMaxItems()) {
        out.add(fp + ": " + n + " items (expected: at most " + r.getMaxItems() + ")");
      }
      if (r.getUnique()) {
        HashSet<Object> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
          if (!seen.add(m.getRepeatedField(f, i))) {
            out.add(fp + "[" + i + "]: duplicate (expected: unique items)");
          }
        }
      }
    }
    Validate.FieldRules items = r.hasItems() ? r.getItems() : Validate.FieldRules.getDefaultInstance();
    for (int i = 0; i < n; i++) {
      single(f, m.getRepeatedField(f, i), items, fp + "[" + i + "]", out);
    }
  }

  private static void map(Message m, FieldDescriptor f, Validate.FieldRules rules, String fp, List<String> out) {
    int n = m.getRepeatedFieldCount(f);
    Validate.MapRules r = rules.getMap();
    if (rules.hasMap() && !(r.getIgnoreEmpty() && n == 0)) {
      if (r.hasMinPairs() && n < r.getMinPairs()) {
        out.add(fp + ": " + n + " entries (expected: at least " + r.getMinPairs() + ")");
      }
      if (r.hasMaxPairs() && n > r.getMaxPairs()) {
        out.add(fp + ": " + n + " entries (expected: at most " + r.getMaxPairs() + ")");
      }
    }
    FieldDescriptor keyField = f.getMessageType().findFieldByNumber(1);
    FieldDescriptor valueField = f.getMessageType().findFieldByNumber(2);
    for (int i = 0; i < n; i++) {
      Message entry = (Message) m.getRepeatedField(f, i);
      Object key = entry.getField(keyField);
      if (r.hasKeys()) {
        single(keyField, key, r.getKeys(), fp + "{" + key + "}.key", out);
      }
      single(valueField, entry.getField(valueField), r.hasValues() ? r.getValues() : Validate.FieldRules.getDefaultInstance(),
          fp + "{" + key + "}", out);
    }
  }

  /** One value (a singular field, a list item or a map value); {@code value} null when the field is unset. */
  private static void single(FieldDescriptor f, Object value, Validate.FieldRules rules, String fp, List<String> out) {
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      Message msg = (Message) value;
      if (rules.hasMessage() && rules.getMessage().getRequired() && msg == null
          || (msg == null && (rules.getDuration().getRequired() || rules.getAny().getRequired()))) {
        out.add(fp + ": unset (expected: required)");
        return;
      }
      if (msg == null || rules.getMessage().getSkip()) {
        return;
      }
      String type = msg.getDescriptorForType().getFullName();
      if (WRAPPERS.contains(type)) {
        FieldDescriptor inner = msg.getDescriptorForType().findFieldByName("value");
        scalar(inner, msg.getField(inner), rules, fp, out);
        return;
      }
      if (type.equals("google.protobuf.Duration") && rules.hasDuration()) {
        duration(com.google.protobuf.Duration.newBuilder().mergeFrom(msg).build(), rules.getDuration(), fp, out);
        return;
      }
      if (type.equals("google.protobuf.Any") && rules.hasAny()) {
        String url = Any.newBuilder().mergeFrom(msg).build().getTypeUrl();
        if (!rules.getAny().getInList().isEmpty() && !rules.getAny().getInList().contains(url)) {
          out.add(fp + ".type_url: " + url + " (expected: one of " + rules.getAny().getInList() + ")");
        }
      }
      message(msg, fp, out);
      return;
    }
    if (value == null) {
      return;
    }
    scalar(f, value, rules, fp, out);
  }

  private static void scalar(FieldDescriptor f, Object value, Validate.FieldRules rules, String fp, List<String> out) {
    switch (rules.getTypeCase()) {
      case STRING -> string((String) value, rules.getString(), fp, out);
      case BYTES -> {
        Validate.BytesRules b = rules.getBytes();
        int n = ((ByteString) value).size();
        if (!(b.getIgnoreEmpty() && n == 0)) {
          if (b.hasMinLen() && n < b.getMinLen()) {
            out.add(fp + ": " + n + " bytes (expected: at least " + b.getMinLen() + ")");
          }
          if (b.hasMaxLen() && n > b.getMaxLen()) {
            out.add(fp + ": " + n + " bytes (expected: at most " + b.getMaxLen() + ")");
          }
        }
      }
      case ENUM -> {
        EnumValueDescriptor e = (EnumValueDescriptor) value;
        Validate.EnumRules r = rules.getEnum();
        if (r.getDefinedOnly() && e.getIndex() < 0) {
          out.add(fp + ": " + e.getNumber() + " (expected: a defined " + f.getEnumType().getName() + ")");
        }
        if (r.hasConst() && e.getNumber() != r.getConst()) {
          out.add(fp + ": " + e.getName() + " (expected: " + r.getConst() + ")");
        }
        if (!r.getInList().isEmpty() && !r.getInList().contains(e.getNumber())) {
          out.add(fp + ": " + e.getName() + " (expected: one of " + r.getInList() + ")");
        }
        if (r.getNotInList().contains(e.getNumber())) {
          out.add(fp + ": " + e.getName() + " (expected: none of " + r.getNotInList() + ")");
        }
      }
      case UINT32 -> numeric(u32(value), rules.getUint32(), fp, out);
      case UINT64 -> numeric(((Number) value).longValue(), rules.getUint64(), fp, out);
      case INT32 -> numeric(((Number) value).longValue(), rules.getInt32(), fp, out);
      case INT64 -> numeric(((Number) value).longValue(), rules.getInt64(), fp, out);
      case DOUBLE -> numeric(((Number) value).doubleValue(), rules.getDouble(), fp, out);
      case FLOAT -> numeric(((Number) value).doubleValue(), rules.getFloat(), fp, out);
      default -> {
        // bool const and the rarely used sint/fixed kinds carry no constraint Envoy's v3 API relies on here
      }
    }
  }

  private static long u32(Object value) {
    return Integer.toUnsignedLong(((Number) value).intValue());
  }

  /** Shared logic of PGV's numeric rules: const, in/not_in, and a range (exclusive if lt &lt; gt). */
  private static void numeric(double v, Message r, String fp, List<String> out) {
    Descriptor d = r.getDescriptorForType();
    if (has(r, "ignore_empty") && (Boolean) get(r, "ignore_empty") && v == 0) {
      return;
    }
    if (has(r, "const") && v != num(get(r, "const"))) {
      out.add(fp + ": " + fmt(v) + " (expected: " + fmt(num(get(r, "const"))) + ")");
    }
    FieldDescriptor in = d.findFieldByName("in");
    if (r.getRepeatedFieldCount(in) > 0) {
      boolean found = false;
      for (int i = 0; i < r.getRepeatedFieldCount(in); i++) {
        found |= num(r.getRepeatedField(in, i)) == v;
      }
      if (!found) {
        out.add(fp + ": " + fmt(v) + " (expected: one of " + r.getField(in) + ")");
      }
    }
    Double lo = has(r, "gt") ? Double.valueOf(num(get(r, "gt"))) : has(r, "gte") ? Double.valueOf(num(get(r, "gte"))) : null;
    boolean loIncl = !has(r, "gt");
    Double hi = has(r, "lt") ? Double.valueOf(num(get(r, "lt"))) : has(r, "lte") ? Double.valueOf(num(get(r, "lte"))) : null;
    boolean hiIncl = !has(r, "lt");
    boolean loOk = lo == null || (loIncl ? v >= lo : v > lo);
    boolean hiOk = hi == null || (hiIncl ? v <= hi : v < hi);
    boolean ok = lo != null && hi != null && hi < lo ? (loOk || hiOk) : (loOk && hiOk);
    if (!ok) {
      out.add(fp + ": " + fmt(v) + " (expected: " + (lo == null ? "" : (loIncl ? ">= " : "> ") + fmt(lo))
          + (lo != null && hi != null ? (hi < lo ? " or " : " and ") : "") + (hi == null ? "" : (hiIncl ? "<= " : "< ") + fmt(hi)) + ")");
    }
  }

  private static boolean has(Message m, String field) {
    FieldDescriptor f = m.getDescriptorForType().findFieldByName(field);
    return f != null && m.hasField(f);
  }

  private static Object get(Message m, String field) {
    return m.getField(m.getDescriptorForType().findFieldByName(field));
  }

  private static double num(Object o) {
    if (o instanceof Integer i) {
      return i; // uint32 rule bounds in Envoy's API are all below 2^31
    }
    return ((Number) o).doubleValue();
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  private static void duration(com.google.protobuf.Duration v, Validate.DurationRules r, String fp, List<String> out) {
    double s = v.getSeconds() + v.getNanos() / 1e9;
    Double lo = r.hasGt() ? Double.valueOf(secs(r.getGt())) : r.hasGte() ? Double.valueOf(secs(r.getGte())) : null;
    Double hi = r.hasLt() ? Double.valueOf(secs(r.getLt())) : r.hasLte() ? Double.valueOf(secs(r.getLte())) : null;
    boolean loOk = lo == null || (r.hasGt() ? s > lo : s >= lo);
    boolean hiOk = hi == null || (r.hasLt() ? s < hi : s <= hi);
    if (!(loOk && hiOk)) {
      out.add(fp + ": " + s + "s (expected: " + (lo == null ? "" : (r.hasGt() ? "> " : ">= ") + lo + "s")
          + (lo != null && hi != null ? " and " : "") + (hi == null ? "" : (r.hasLt() ? "< " : "<= ") + hi + "s") + ")");
    }
    if (v.getNanos() < 0 || v.getNanos() > 999_999_999 || v.getSeconds() > 315_576_000_000L || v.getSeconds() < -315_576_000_000L) {
      out.add(fp + ": " + v + " (expected: a normalized Duration)");
    }
  }

  private static double secs(com.google.protobuf.Duration d) {
    return d.getSeconds() + d.getNanos() / 1e9;
  }

  private static void string(String v, Validate.StringRules r, String fp, List<String> out) {
    if (r.getIgnoreEmpty() && v.isEmpty()) {
      return;
    }
    int len = v.codePointCount(0, v.length());
    int bytes = v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    String shown = v.length() > 60 ? "\"" + v.substring(0, 57) + "...\"" : "\"" + v + "\"";
    if (r.hasConst() && !v.equals(r.getConst())) {
      out.add(fp + ": " + shown + " (expected: \"" + r.getConst() + "\")");
    }
    if (r.hasLen() && len != r.getLen()) {
      out.add(fp + ": " + shown + " (expected: exactly " + r.getLen() + " characters)");
    }
    if (r.hasMinLen() && len < r.getMinLen()) {
      out.add(fp + ": " + shown + " (expected: at least " + r.getMinLen() + " characters)");
    }
    if (r.hasMaxLen() && len > r.getMaxLen()) {
      out.add(fp + ": " + shown + " (expected: at most " + r.getMaxLen() + " characters)");
    }
    if (r.hasMinBytes() && bytes < r.getMinBytes()) {
      out.add(fp + ": " + shown + " (expected: at least " + r.getMinBytes() + " bytes)");
    }
    if (r.hasMaxBytes() && bytes > r.getMaxBytes()) {
      out.add(fp + ": " + shown + " (expected: at most " + r.getMaxBytes() + " bytes)");
    }
    if (r.hasPattern() && !PATTERNS.computeIfAbsent(r.getPattern(), Pattern::compile).matcher(v).find()) {
      out.add(fp + ": " + shown + " (expected: to match " + r.getPattern() + ")");
    }
    if (r.hasPrefix() && !v.startsWith(r.getPrefix())) {
      out.add(fp + ": " + shown + " (expected: prefix \"" + r.getPrefix() + "\")");
    }
    if (r.hasSuffix() && !v.endsWith(r.getSuffix())) {
      out.add(fp + ": " + shown + " (expected: suffix \"" + r.getSuffix() + "\")");
    }
    if (r.hasContains() && !v.contains(r.getContains())) {
      out.add(fp + ": " + shown + " (expected: to contain \"" + r.getContains() + "\")");
    }
    if (!r.getInList().isEmpty() && !r.getInList().contains(v)) {
      out.add(fp + ": " + shown + " (expected: one of " + r.getInList() + ")");
    }
    if (r.getNotInList().contains(v)) {
      out.add(fp + ": " + shown + " (expected: none of " + r.getNotInList() + ")");
    }
    switch (r.getWellKnownCase()) {
      case HOSTNAME -> {
        if (r.getHostname() && !isHostname(v)) {
          out.add(fp + ": " + shown + " (expected: a hostname)");
        }
      }
      case IP, IPV4, IPV6 -> {
        if (!isIp(v)) {
          out.add(fp + ": " + shown + " (expected: an IP address)");
        }
      }
      case ADDRESS -> {
        if (r.getAddress() && !isIp(v) && !isHostname(v)) {
          out.add(fp + ": " + shown + " (expected: an IP address or hostname)");
        }
      }
      case WELL_KNOWN_REGEX -> {
        Pattern p = switch (r.getWellKnownRegex()) {
          case HTTP_HEADER_NAME -> r.hasStrict() && !r.getStrict() ? HEADER_LOOSE : HEADER_NAME;
          case HTTP_HEADER_VALUE -> r.hasStrict() && !r.getStrict() ? HEADER_LOOSE : HEADER_VALUE;
          default -> null;
        };
        if (p != null && !p.matcher(v).matches()) {
          out.add(fp + ": " + shown + " (expected: a valid " + r.getWellKnownRegex() + ")");
        }
      }
      default -> {
      }
    }
  }

  static boolean isHostname(String v) {
    String h = v.endsWith(".") ? v.substring(0, v.length() - 1) : v;
    if (h.isEmpty() || h.length() > 253) {
      return false;
    }
    for (String label : h.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")
          || !label.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || c == '-'))) {
        return false;
      }
    }
    return true;
  }

  static boolean isIp(String v) {
    return com.google.common.net.InetAddresses.isInetAddress(v);
  }

  private static void any(Message m, String path, List<String> out) {
    Any a = m instanceof Any x ? x : Any.newBuilder().mergeFrom(m).build();
    if (a.getTypeUrl().isEmpty()) {
      out.add(path + ".type_url: \"\" (expected: a type URL)");
      return;
    }
    Message inner;
    try {
      inner = EnvoyTypes.unpack(a);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      out.add(path + ": " + a.getTypeUrl() + " (expected: a type Envoy knows: " + e.getMessage() + ")");
      return;
    }
    message(inner, path + "<" + inner.getDescriptorForType().getName() + ">", out);
  }
}
