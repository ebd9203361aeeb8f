package io.trellis.xds;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.ProxyView;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes one proxy's successive views from their wire bytes, parsing only the parts that differ from the
 * previous view (parts are compared by their bytes: equal bytes are equal content, so the previous parsed
 * part is reused as is; different bytes of equal content merely cost a parse). It also tells whether the
 * new view differs from the previous one only in the endpoints of internal (non-external) outbounds, the
 * common change that touches nothing but EDS. Not thread-safe: one per proxy session.
 */
final class ViewDecoder {
  /** A decoded view; {@code endpointsOnly}: vs the previously decoded view, only internal outbounds' endpoints differ. */
  record Decoded(ProxyView view, boolean endpointsOnly) {}

  private ByteString rest; // every field but version, revision and outbounds, as received
  private ProxyView restView; // rest, parsed
  private List<ByteString> outboundBytes = List.of();
  private List<OutboundView> outbounds = List.of();

  Decoded decode(byte[] bytes) {
    try {
      return decodeOrThrow(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException("proxy view: malformed protobuf (" + e.getMessage() + ")", e);
    }
  }

  private Decoded decodeOrThrow(byte[] bytes) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.enableAliasing(true);
    long version = 0;
    String revision = "";
    List<ByteString> newOutboundBytes = new ArrayList<>(outboundBytes.size());
    ByteString.Output restOut = ByteString.newOutput(bytes.length);
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (tag) {
        case (ProxyView.VERSION_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_VARINT -> version = in.readUInt64();
        case (ProxyView.REVISION_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> revision = in.readStringRequireUtf8();
        case (ProxyView.OUTBOUNDS_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> newOutboundBytes.add(in.readBytes());
        default -> {
          in.skipField(tag);
          restOut.write(bytes, start, in.getTotalBytesRead() - start);
        }
      }
    }
    ByteString newRest = restOut.toByteString();
    boolean restSame = newRest.equals(rest);
    ProxyView newRestView = restSame ? restView : ProxyView.parseFrom(newRest);
    boolean endpointsOnly = restSame && newOutboundBytes.size() == outboundBytes.size();
    List<OutboundView> newOutbounds = new ArrayList<>(newOutboundBytes.size());
    for (int i = 0; i < newOutboundBytes.size(); i++) {
      ByteString b = newOutboundBytes.get(i);
      if (i < outboundBytes.size() && b.equals(outboundBytes.get(i))) {
        newOutbounds.add(outbounds.get(i));
        continue;
      }
      OutboundView o = OutboundView.parseFrom(b);
      newOutbounds.add(o);
      endpointsOnly &= i < outboundBytes.size() && !o.getExternal()
          && withoutEndpoints(b).equals(withoutEndpoints(outboundBytes.get(i)));
    }
    ProxyView view = newRestView.toBuilder().setVersion(version).setRevision(revision).addAllOutbounds(newOutbounds).build();
    rest = newRest;
    restView = newRestView;
    outboundBytes = newOutboundBytes;
    outbounds = newOutbounds;
    return new Decoded(view, endpointsOnly);
  }

  /** An outbound's fields other than its endpoints, as received. */
  private static ByteString withoutEndpoints(ByteString outbound) throws IOException {
    CodedInputStream in = outbound.newCodedInput();
    ByteString.Output out = ByteString.newOutput(outbound.size());
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        return out.toByteString();
      }
      in.skipField(tag);
      if (WireFormat.getTagFieldNumber(tag) != OutboundView.ENDPOINTS_FIELD_NUMBER) {
        outbound.substring(start, in.getTotalBytesRead()).writeTo(out);
      }
    }
  }
}
