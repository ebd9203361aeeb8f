#!/usr/bin/env bash
# Same-run before/after of the push benchmark against another revision (e.g. the merged main):
#  1. this bench with BASE's product classes (xds-service/src/main of BASE), shared and delta;
#  2. this bench with this tree's product classes, shared and delta;
#  3. BASE's own PushBench with this tree's product classes (how much of a difference is the method's).
# Usage: xds-service/bench/ab.sh BASE [proxies]   (default 10000). Prints the lines with the load before each.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE="$1"
N="${2:-10000}"
flock -s /tmp/trellis-cpu.lock ./mvnw -B -q -o -pl xds-service -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-cp.txt >/dev/null
DEPS="$(cat xds-service/target/bench-cp.txt)"
TC=xds-service/target/test-classes
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
git archive "$BASE" xds-service/src/main/java xds-service/src/test/java/io/trellis/xds/bench | tar -x -C "$TMP"
mkdir -p "$TMP/classes" "$TMP/bench"
flock -s /tmp/trellis-cpu.lock javac -nowarn -proc:none -cp "$DEPS" -d "$TMP/classes" $(find "$TMP/xds-service/src/main/java" -name '*.java')
flock -s /tmp/trellis-cpu.lock javac -nowarn -proc:none -cp "$TC:xds-service/target/classes:$DEPS" -d "$TMP/bench" \
  "$TMP/xds-service/src/test/java/io/trellis/xds/bench/PushBench.java"
run() {
  echo "# $1 - load before: $(uptime)"
  shift
  flock -x /tmp/trellis-cpu.lock java -Xmx6g -cp "$@" 2>&1 | grep -v "^push starts"
}
echo "# xds-service push A/B, $(date -u), base $(git rev-parse --short "$BASE"), this tree $(git rev-parse --short HEAD)"
for mode in shared delta; do
  run "this bench, base's product" "$TC:$TMP/classes:$DEPS" io.trellis.xds.bench.PushBench "$N" "$mode" 20
  run "this bench, this product" "$TC:xds-service/target/classes:$DEPS" io.trellis.xds.bench.PushBench "$N" "$mode" 20
done
run "base's bench, this product" "$TMP/bench:$TC:xds-service/target/classes:$DEPS" io.trellis.xds.bench.PushBench "$N" shared 20
echo "# load after: $(uptime)"
