package io.trellis.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.trellis.api.policy.v1.Endpoint;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.ProxyView;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * Decodes one proxy's successive views from their wire bytes, parsing only the parts that differ from the
 * previous view. Parts are compared by their bytes: equal bytes are equal content, so the previous parsed
 * part is reused as is (different bytes of equal content merely cost a parse). It also tells whether the
 * new view differs from the previous one only in the endpoints of internal (non-external) outbounds, the
 * common change that touches nothing but EDS; such an outbound keeps its other parsed fields, and its new
 * endpoints are parsed once for all proxies (interned by their bytes). Not thread-safe: one per proxy session.
 */
final class ViewDecoder {
  /** A decoded view; {@code endpointsOnly}: vs the previously decoded view, only internal outbounds' endpoints differ. */
  record Decoded(ProxyView view, boolean endpointsOnly) {}

  /** Parsed endpoint lists by their bytes, shared by every proxy whose outbound carries exactly these. */
  private static final Cache<ByteString, List<Endpoint>> ENDPOINTS = CacheBuilder.newBuilder().weakValues().build();

  private byte[] bytes = new byte[0]; // the previous view, as received
  private int[] rest = new int[0]; // its fields other than version, revision and outbounds: start/end pairs
  private ProxyView restView; // those fields, parsed
  private int[] outboundSpans = new int[0]; // start/end pairs of each outbound's bytes
  private List<OutboundView> outbounds = List.of();

  Decoded decode(byte[] next) {
    try {
      return decodeOrThrow(next);
    } catch (IOException | ExecutionException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalArgumentException("proxy view: malformed protobuf (" + cause.getMessage() + ")", cause);
    }
  }

  private Decoded decodeOrThrow(byte[] next) throws IOException, ExecutionException {
    CodedInputStream in = CodedInputStream.newInstance(next);
    long version = 0;
    String revision = "";
    IntList newRest = new IntList();
    IntList newOutboundSpans = new IntList();
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (tag) {
        case (ProxyView.VERSION_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_VARINT -> version = in.readUInt64();
        case (ProxyView.REVISION_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> revision = in.readStringRequireUtf8();
        case (ProxyView.OUTBOUNDS_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          int length = in.readRawVarint32();
          int at = in.getTotalBytesRead();
          in.skipRawBytes(length);
          newOutboundSpans.add(at, at + length);
        }
        default -> {
          in.skipField(tag);
          newRest.addOrExtend(start, in.getTotalBytesRead());
        }
      }
    }
    int[] restSpans = newRest.toArray();
    boolean restSame = restView != null && sameBytes(bytes, rest, next, restSpans);
    ProxyView newRestView = restSame ? restView : ProxyView.parseFrom(concat(next, restSpans));
    int[] spans = newOutboundSpans.toArray();
    int count = spans.length / 2;
    boolean endpointsOnly = restSame && count == outbounds.size();
    List<OutboundView> newOutbounds = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = spans[2 * i];
      int to = spans[2 * i + 1];
      if (i < outbounds.size() && Arrays.equals(next, from, to, bytes, outboundSpans[2 * i], outboundSpans[2 * i + 1])) {
        newOutbounds.add(outbounds.get(i));
        continue;
      }
      Fields now = Fields.of(next, from, to);
      if (i < outbounds.size() && !outbounds.get(i).getExternal()
          && sameBytes(bytes, Fields.of(bytes, outboundSpans[2 * i], outboundSpans[2 * i + 1]).others, next, now.others)) {
        // only the endpoints differ: keep the parsed rest of the outbound (same instances, cheap to compare)
        ByteString endpointBytes = ByteString.copyFrom(concat(next, now.endpoints));
        List<Endpoint> endpoints = ENDPOINTS.get(endpointBytes, () -> OutboundView.parseFrom(endpointBytes).getEndpointsList());
        newOutbounds.add(outbounds.get(i).toBuilder().clearEndpoints().addAllEndpoints(endpoints).build());
      } else {
        endpointsOnly = false;
        newOutbounds.add(OutboundView.parseFrom(ByteString.copyFrom(next, from, to - from)));
      }
    }
    ProxyView view = newRestView.toBuilder().setVersion(version).setRevision(revision).addAllOutbounds(newOutbounds).build();
    bytes = next;
    rest = restSpans;
    restView = newRestView;
    outboundSpans = spans;
    outbounds = newOutbounds;
    return new Decoded(view, endpointsOnly);
  }

  /** An outbound's endpoints fields and its other fields, as start/end pairs. */
  private record Fields(int[] endpoints, int[] others) {
    static Fields of(byte[] bytes, int from, int to) throws IOException {
      CodedInputStream in = CodedInputStream.newInstance(bytes, from, to - from);
      IntList endpoints = new IntList();
      IntList others = new IntList();
      while (true) {
        int start = from + in.getTotalBytesRead();
        int tag = in.readTag();
        if (tag == 0) {
          return new Fields(endpoints.toArray(), others.toArray());
        }
        in.skipField(tag);
        (WireFormat.getTagFieldNumber(tag) == OutboundView.ENDPOINTS_FIELD_NUMBER ? endpoints : others)
            .addOrExtend(start, from + in.getTotalBytesRead());
      }
    }
  }

  private static boolean sameBytes(byte[] a, int[] aSpans, byte[] b, int[] bSpans) {
    if (aSpans.length != bSpans.length) {
      return false;
    }
    for (int i = 0; i < aSpans.length; i += 2) {
      if (!Arrays.equals(a, aSpans[i], aSpans[i + 1], b, bSpans[i], bSpans[i + 1])) {
        return false;
      }
    }
    return true;
  }

  private static byte[] concat(byte[] bytes, int[] spans) {
    int size = 0;
    for (int i = 0; i < spans.length; i += 2) {
      size += spans[i + 1] - spans[i];
    }
    byte[] out = new byte[size];
    int at = 0;
    for (int i = 0; i < spans.length; i += 2) {
      System.arraycopy(bytes, spans[i], out, at, spans[i + 1] - spans[i]);
      at += spans[i + 1] - spans[i];
    }
    return out;
  }

  /** Start/end pairs; a span starting where the last one ended extends it. */
  private static final class IntList {
    private int[] values = new int[8];
    private int size;

    void add(int start, int end) {
      if (size + 2 > values.length) {
        values = Arrays.copyOf(values, values.length * 2);
      }
      values[size++] = start;
      values[size++] = end;
    }

    void addOrExtend(int start, int end) {
      if (size > 0 && values[size - 1] == start) {
        values[size - 1] = end;
      } else {
        add(start, end);
      }
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
