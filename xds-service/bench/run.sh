#!/usr/bin/env bash
# Push benchmark of xds-service's snapshot path, our (shared) mode side by side with the naive one.
# Usage: xds-service/bench/run.sh [proxies...]   (default: 1000 2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
./mvnw -B -q -o -pl xds-service -am test-compile -DskipTests
./mvnw -B -q -o -pl xds-service dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/xds-bench-cp.txt >/dev/null
CP="xds-service/target/test-classes:xds-service/target/classes:api/target/classes:$(cat /tmp/xds-bench-cp.txt)"
for n in "${@:-1000 2000}"; do
  for mode in shared naive; do
    java -Xmx1500m -cp "$CP" io.trellis.xds.bench.PushBench "$n" "$mode" 20
  done
done
