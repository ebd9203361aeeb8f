#!/usr/bin/env bash
# Proxy view benchmark (not part of the test suite): 1000 services x 2 Dataplanes, 1000 policies.
# Usage, from the repository root, after `./mvnw -B -q -pl policy-service -am verify -DskipTests`:
#   policy-service/bench/proxy-views.sh [services]
set -euo pipefail
cd "$(dirname "$0")/.."
../mvnw -B -q -o dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
exec java -XX:+UseParallelGC -Xmx1g -cp "target/test-classes:target/classes:../api/target/classes:$(cat target/bench.classpath)" \
  io.trellis.policy.bench.ProxyViewBench "$@"
