#!/usr/bin/env bash
# Push benchmark of xds-service's snapshot path: our (shared) mode, SotW and delta clients, side by side with the naive one, same run.
# Usage: xds-service/bench/run.sh [proxies...]   (default: 1000 5000 10000)
# Prints one line per (N, mode) and writes them, with the machine load, to bench/results/push-<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
# One reactor build (-am): compiles api and xds-service and writes each module's test classpath to its
# target/bench-cp.txt; in a reactor, api resolves to api/target/classes, so nothing needs to be in ~/.m2.
flock -s /tmp/trellis-cpu.lock ./mvnw -B -q -o -pl xds-service -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-cp.txt >/dev/null
CP="xds-service/target/test-classes:xds-service/target/classes:$(cat xds-service/target/bench-cp.txt)"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then sizes=(1000 5000 10000); fi
mkdir -p xds-service/bench/results
OUT="xds-service/bench/results/push-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# xds-service push benchmark, $(date -u), $(nproc) cores, java $(java -version 2>&1 | head -1)"
  echo "# 1000 services, 20 outbounds per proxy, one endpoint change of a service every proxy reaches"
  for n in "${sizes[@]}"; do
    for mode in shared delta naive; do
      echo "# load before: $(uptime)"
      flock -x /tmp/trellis-cpu.lock java -Xmx6g -cp "$CP" io.trellis.xds.bench.PushBench "$n" "$mode" 20
    done
  done
  echo "# load after: $(uptime)"
} 2>&1 | tee "$OUT"
echo "results: $OUT"
