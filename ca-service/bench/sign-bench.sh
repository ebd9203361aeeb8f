#!/usr/bin/env bash
# Issuance benchmark of ca-service on ONE core: end-to-end CSR -> leaf rate next to the raw
# BouncyCastle P-256 sign+verify rate of the same machine, then p50/p99 at half that rate.
#   ca-service/bench/sign-bench.sh [seconds-per-phase, default 5]
# Builds test classes with the wrapper (offline if possible); not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
./mvnw -B -q -o -pl ca-service -am test-compile -DskipTests 2>/dev/null || ./mvnw -B -q -pl ca-service -am test-compile -DskipTests
CP_FILE=ca-service/target/bench.classpath
./mvnw -B -q -o -pl ca-service dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$CP_FILE" >/dev/null
CP="ca-service/target/classes:ca-service/target/test-classes:api/target/classes:$(cat "$CP_FILE")"
PIN=""
command -v taskset >/dev/null && PIN="taskset -c ${BENCH_CPU:-0}"
exec $PIN java -XX:ActiveProcessorCount=1 -Xmx256m -cp "$CP" io.trellis.ca.bench.SignBench "${1:-5}"
