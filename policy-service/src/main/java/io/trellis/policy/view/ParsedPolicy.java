package io.trellis.policy.view;

import io.trellis.api.model.Resource;
import io.trellis.api.model.TargetRef;
import io.trellis.policy.matching.Entry;
import java.util.List;

/** A policy with its entries extracted once per snapshot, not once per proxy. */
record ParsedPolicy(Resource resource, TargetRef top, List<Entry> from, List<Entry> to) {}
