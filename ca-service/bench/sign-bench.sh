#!/usr/bin/env bash
# Issuance benchmark of ca-service on ONE core: end-to-end CSR -> leaf rate next to the raw
# BouncyCastle P-256 sign+verify rate of the same machine, then p50/p99 at half that rate.
#   ca-service/bench/sign-bench.sh [seconds-per-phase, default 5]
# Builds test classes with the wrapper (offline if possible); not part of the test suite.
# The output, with the machine's load (uptime) before and after, is also written to
# ca-service/bench/results/sign-bench-<UTC time>.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
# One reactor build (-am): api resolves to api/target/classes, so nothing of ours needs to be in ~/.m2; each module
# writes its own test classpath to its target/bench.classpath.
BUILD=(-pl ca-service -am test-compile dependency:build-classpath -DskipTests -Dmdep.includeScope=test
  -Dmdep.outputFile=target/bench.classpath)
./mvnw -B -q -o "${BUILD[@]}" >/dev/null 2>&1 || ./mvnw -B -q "${BUILD[@]}" >/dev/null
CP_FILE=ca-service/target/bench.classpath
CP="ca-service/target/classes:ca-service/target/test-classes:api/target/classes:$(cat "$CP_FILE")"
PIN=""
command -v taskset >/dev/null && PIN="taskset -c ${BENCH_CPU:-0}"
mkdir -p ca-service/bench/results
OUT="ca-service/bench/results/sign-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) ($(nproc) CPUs)"
  echo "# java: $(java -version 2>&1 | head -1)"
  echo "# uptime before: $(uptime)"
  $PIN java -XX:ActiveProcessorCount=1 -Xmx256m -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    -cp "$CP" io.trellis.ca.bench.SignBench "${1:-5}" 2>&1
  echo "# uptime after: $(uptime)"
} | tee "$OUT"
