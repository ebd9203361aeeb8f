#!/usr/bin/env bash
# Proxy view benchmark (not part of the test suite): 1000 services x 2 Dataplanes, 1000 policies; full recompute
# and one change, each beside its reference (no policies / full snapshot rebuild) in the same run.
# Usage, from anywhere in a fresh clone:   policy-service/bench/proxy-views.sh [services]
# Builds policy-service and what it needs from this checkout (-am; nothing is installed into ~/.m2), then runs
# ProxyViewBench (test sources) on one thread. Set SKIP_BUILD=1 to reuse the last build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # test-compile resolves trellis-api from the reactor (api/target/classes), never from the local repository.
  ./mvnw -B -q -o -pl policy-service -am test-compile dependency:build-classpath -Dquarkus.build.skip=true \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
fi
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(nproc) cpus; load before:$(uptime | sed 's/.*load average://')"
java -XX:+UseParallelGC -Xms1g -Xmx1g -XX:ActiveProcessorCount=1 \
  -cp "policy-service/target/test-classes:policy-service/target/classes:$(cat policy-service/target/bench.classpath)" \
  io.trellis.policy.bench.ProxyViewBench "$@"
echo "# load after:$(uptime | sed 's/.*load average://')"
