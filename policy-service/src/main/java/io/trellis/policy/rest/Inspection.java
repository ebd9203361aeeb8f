package io.trellis.policy.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.trellis.api.policy.v1.GatewayListenerView;
import io.trellis.api.policy.v1.InboundView;
import io.trellis.api.policy.v1.OutboundView;
import io.trellis.api.policy.v1.PolicyRules;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.policy.v1.Rule;
import java.util.List;

/** Renders a proxy view for the inspect API: which policies matched ({@code _policies}) or the merged result. */
final class Inspection {
  private Inspection() {}

  static ObjectNode render(ProxyView view, boolean withRules, ObjectMapper json) {
    ObjectNode out = json.createObjectNode();
    out.put("mesh", view.getMesh());
    out.put("dataplane", view.getName());
    out.put("mtlsEnabled", view.getMtlsEnabled());
    ArrayNode inbounds = out.putArray("inbounds");
    for (InboundView in : view.getInboundsList()) {
      ObjectNode n = inbounds.addObject();
      n.put("port", in.getPort());
      n.set("tags", json.valueToTree(new java.util.TreeMap<>(in.getTagsMap())));
      n.set("policies", policies(in.getRulesList(), withRules, json));
    }
    ArrayNode outbounds = out.putArray("outbounds");
    for (OutboundView o : view.getOutboundsList()) {
      ObjectNode n = outbounds.addObject();
      n.put("service", o.getService());
      n.put("address", o.getAddress());
      n.put("port", o.getPort());
      n.put("endpoints", o.getEndpointsCount());
      n.set("policies", policies(o.getRulesList(), withRules, json));
    }
    if (view.hasGateway()) {
      ArrayNode listeners = out.putObject("gateway").putArray("listeners");
      for (GatewayListenerView l : view.getGateway().getListenersList()) {
        ObjectNode n = listeners.addObject();
        n.put("port", l.getPort());
        n.put("protocol", l.getProtocol());
        n.put("hostname", l.getHostname());
        n.set("policies", policies(l.getRulesList(), withRules, json));
      }
    }
    out.set("proxy", policies(view.getProxyRulesList(), withRules, json));
    return out;
  }

  private static ArrayNode policies(List<PolicyRules> rules, boolean withRules, ObjectMapper json) {
    ArrayNode out = json.createArrayNode();
    for (PolicyRules r : rules) {
      ObjectNode n = out.addObject();
      n.put("type", r.getPolicyType());
      n.set("applied", json.valueToTree(List.copyOf(r.getAppliedList())));
      if (withRules) {
        ArrayNode rs = n.putArray("rules");
        for (Rule rule : r.getRulesList()) {
          ObjectNode rn = rs.addObject();
          rn.set("subset", json.valueToTree(new java.util.TreeMap<>(rule.getSubsetMap())));
          try {
            rn.set("conf", json.readTree(rule.getConfJson()));
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            rn.put("conf", rule.getConfJson());
          }
          rn.set("origins", json.valueToTree(List.copyOf(rule.getOriginsList())));
        }
      }
    }
    return out;
  }
}
