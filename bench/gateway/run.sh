#!/bin/bash
# Loopback gateway baselines: direct upstream vs nginx vs haproxy (plain HTTP, API-key, TLS termination,
# TLS handshakes, TLS passthrough by SNI). All traffic on 127.0.0.1.
# Usage:  [DUR=15] [REPS=3] [PIN=0|1] [PROXY_WORKERS=1] [THREADS=2] [CONNS=64] [INTERLEAVE=0|1] [TESTS="direct nginx ..."] ./run.sh TAG
#   INTERLEAVE=1 runs rep 1 of every test, then rep 2 of every test, ... (fairer when the host has background load)
#   PIN=1 pins wrk to CPU0 and every server (upstream + proxy) to CPU1 (needs >=2 CPUs).
# Output: $RESULTS/<TAG>/<test>.<rep>.txt (raw wrk) and summary.tsv (RESULTS defaults to ./bench-results)
# Needs: apt-get install -y nginx haproxy wrk openssl python3.
# Copy of ../../../shared/bench/peers/run.sh with Trellis gateway-proxy as extra cases (gw, gw_apikey, gw_tls_ec,
# gw_sni_passthrough) on ports 9081/9083/9443/9446, same worker threads as the peers (PROXY_WORKERS).
# Build first: ./mvnw -B -q -o -pl gateway-proxy -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
set -u
B=$(cd "$(dirname "$0")/../../../shared/bench/peers" 2>/dev/null && pwd || echo /work/shared/bench/peers); ROOT=$(cd "$(dirname "$0")/../.." && pwd); R=${RUN_DIR:-$(mktemp -d)}
TAG=${1:-default}; RESULTS=${RESULTS:-$PWD/bench-results}; OUT=$RESULTS/$TAG
DUR=${DUR:-15}; REPS=${REPS:-3}; PIN=${PIN:-0}; PW=${PROXY_WORKERS:-1}; T=${THREADS:-2}; C=${CONNS:-64}
TESTS=${TESTS:-"direct nginx haproxy gw nginx_apikey gw_apikey nginx_tls_ec haproxy_tls_ec gw_tls_ec haproxy_sni_passthrough gw_sni_passthrough"}
if [ "$PIN" = 1 ]; then SRV="taskset -c 1"; CLI="taskset -c 0"; else SRV=""; CLI=""; fi
mkdir -p "$OUT" $R/upstream $R/proxy
for d in cbt pt ft ut st; do mkdir -p $R/upstream/$d $R/proxy/$d; done
# effective configs (worker count substituted)
# throwaway test certificates and the key map, made fresh in the run dir
mkdir -p $R/certs; C_=$R/certs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout $C_/ec.key -out $C_/ec.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout $C_/rsa.key -out $C_/rsa.crt 2>/dev/null
cat $C_/ec.crt $C_/ec.key > $C_/ec.pem; cp $B/apikeys.map $C_/
fill() { sed "s#@BENCH@#$C_#g; s#@RUN@#$R#g" "$1"; }
fill $B/nginx.conf | sed "s/^worker_processes 1;/worker_processes $PW;/" > $R/nginx.eff.conf
fill $B/haproxy.cfg | sed "s/^  nbthread 1 /  nbthread $PW /" > $R/haproxy.eff.cfg
fill $B/upstream.conf > $R/upstream.eff.conf

$SRV nginx -p $R/upstream -c $R/upstream.eff.conf
$SRV nginx -p $R/proxy -c $R/nginx.eff.conf
$SRV haproxy -D -p $R/haproxy.pid -f $R/haproxy.eff.cfg
GP=$ROOT/gateway-proxy/target
# GW_JAVA_OPTS: e.g. -XX:StartFlightRecording=filename=/tmp/gw.jfr,settings=profile for an async-sampled profile;
# -Dtrellis.tls.provider=jdk to compare the JDK TLS provider with BoringSSL.
# Netty's object Recycler is off (maxCapacityPerThread=0): with one event loop it only adds work (its claim/drain
# was 3-10% of the gateway's Java samples; plain allocation + young GC is cheaper). Recommended for deployment too.
$SRV java -Xms256m -Xmx512m -Dio.netty.leakDetection.level=disabled -Dio.netty.recycler.maxCapacityPerThread=0 ${GW_JAVA_OPTS:-} -cp $GP/classes:$GP/test-classes:$(cat $GP/cp.txt) \
  io.trellis.gateway.bench.BenchGateway $C_ $PW > $R/gateway.log 2>&1 &
GW_PID=$!
# GW_BASELINE_CLASSES=dir: a second gateway from another build's classes (same JVM options, ports +100) for a
# before/after comparison in the same run: cases gwbase, gwbase_apikey, gwbase_tls_ec (add them to TESTS).
# GWB_JAVA_OPTS: JVM options of that second gateway instead of GW_JAVA_OPTS (to compare JVM flags on one build).
GWB_PID=
if [ -n "${GW_BASELINE_CLASSES:-}" ]; then
  $SRV java -Xms256m -Xmx512m -Dio.netty.leakDetection.level=disabled -Dio.netty.recycler.maxCapacityPerThread=0 ${GWB_JAVA_OPTS-${GW_JAVA_OPTS:-}} \
    -cp $GW_BASELINE_CLASSES:$GP/test-classes:$(cat $GP/cp.txt) io.trellis.gateway.bench.BenchGateway $C_ $PW 100 > $R/gateway-baseline.log 2>&1 &
  GWB_PID=$!
  for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:9181/ && break; sleep 0.2; done
fi
for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:9081/ && break; sleep 0.2; done
sleep 1
UP_PID=$(cat $R/upstream/nginx.pid); PX_PID=$(cat $R/proxy/nginx.pid); HA_PID=$(cat $R/haproxy.pid)
pids_of() { echo "$1 $(pgrep -P $1 | tr '\n' ' ')"; }   # master + direct children, by PID
cpu_ticks() { local s=0; for p in $*; do [ -r /proc/$p/stat ] && s=$((s + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $s; }
UP_P=$(pids_of $UP_PID); PX_P=$(pids_of $PX_PID); HA_P=$(pids_of $HA_PID); GW_P="$GW_PID $GWB_PID"

stop_all() {
  kill -QUIT $UP_PID $PX_PID 2>/dev/null; kill -USR1 $HA_PID 2>/dev/null; sleep 1
  kill -TERM $GW_PID $GWB_PID 2>/dev/null
  for p in $UP_PID $PX_PID $HA_PID; do kill -0 $p 2>/dev/null && kill -TERM $p; done
}
trap stop_all EXIT

# sanity
curl -s http://127.0.0.1:8080/ >/dev/null || { echo "upstream down"; exit 1; }
{ echo "## sanity $(date -Is)"; for u in http://127.0.0.1:8080/ http://127.0.0.1:8081/ http://127.0.0.1:8082/ \
   "-H apikey:key-42 http://127.0.0.1:8083/" "http://127.0.0.1:8083/" "-k https://127.0.0.1:8443/" "-k https://127.0.0.1:8444/" \
   "-k https://127.0.0.1:8445/" "-k --resolve localhost:8446:127.0.0.1 https://localhost:8446/" \
   http://127.0.0.1:9081/ "-H apikey:key-42 http://127.0.0.1:9083/" http://127.0.0.1:9083/ "-k https://127.0.0.1:9443/" \
   "-k --resolve localhost:9446:127.0.0.1 https://localhost:9446/"; do
   echo "$u -> $(curl -s -o /dev/null -w '%{http_code} %{ssl_verify_result}' $u)"; done; } > $OUT/sanity.txt

url_of() { case $1 in
  direct) echo "http://127.0.0.1:8080/";;  nginx) echo "http://127.0.0.1:8081/";;  haproxy) echo "http://127.0.0.1:8082/";;
  nginx_apikey) echo "http://127.0.0.1:8083/";;  nginx_tls_ec|nginx_tls_ec_handshake) echo "https://127.0.0.1:8443/";;
  nginx_tls_rsa_handshake) echo "https://127.0.0.1:8444/";;  haproxy_tls_ec) echo "https://127.0.0.1:8445/";;
  haproxy_sni_passthrough) echo "https://localhost:8446/";;
  gw) echo "http://127.0.0.1:9081/";;  gw_apikey) echo "http://127.0.0.1:9083/";;  gw_tls_ec) echo "https://127.0.0.1:9443/";;
  gw_sni_passthrough) echo "https://localhost:9446/";;
  gwbase) echo "http://127.0.0.1:9181/";;  gwbase_apikey) echo "http://127.0.0.1:9183/";;  gwbase_tls_ec) echo "https://127.0.0.1:9543/";; esac; }
hdr_of() { case $1 in
  nginx_apikey|gw_apikey|gwbase_apikey) echo "apikey: key-42";; *_handshake) echo "Connection: close";; *) echo "X-Bench: 1";; esac; }

printf "test\trep\trps\tavg_ms\tp50_ms\tp75_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx_or_err\tupstream_cpu_s\tnginx_cpu_s\thaproxy_cpu_s\tgateway_cpu_s\tloadavg1_after\n" > $OUT/summary.tsv
grep -q localhost /etc/hosts || echo "WARN: localhost not in /etc/hosts" >&2
one() {  # $1=test $2=rep
  local t=$1 r=$2 u h
  u=$(url_of $t); h=$(hdr_of $t)
    a1=$(cpu_ticks $UP_P); b1=$(cpu_ticks $PX_P); c1=$(cpu_ticks $HA_P); d1=$(cpu_ticks $GW_P)
    $CLI wrk -t$T -c$C -d${DUR}s --latency -H "$h" "$u" > $OUT/$t.$r.txt 2>&1
    a2=$(cpu_ticks $UP_P); b2=$(cpu_ticks $PX_P); c2=$(cpu_ticks $HA_P); d2=$(cpu_ticks $GW_P)
    python3 - "$OUT/$t.$r.txt" "$t" "$r" $((a2-a1)) $((b2-b1)) $((c2-c1)) $((d2-d1)) >> $OUT/summary.tsv <<'PY'
import re,sys
f,t,r,a,b,c,d=sys.argv[1:8]; s=open(f).read()
def ms(v):
    m=re.match(r'([\d.]+)(us|ms|s|m)$',v); x=float(m.group(1)); return x*{'us':1e-3,'ms':1,'s':1e3,'m':6e4}[m.group(2)]
rps=re.search(r'Requests/sec:\s+([\d.]+)',s).group(1)
avg=ms(re.search(r'Latency\s+(\S+)\s+(\S+)\s+(\S+)',s).group(1)); mx=ms(re.search(r'Latency\s+(\S+)\s+(\S+)\s+(\S+)',s).group(3))
pct={k:ms(v) for k,v in re.findall(r'^\s+(50|75|90|99)%\s+(\S+)',s,re.M)}
bad=0
m=re.search(r'Non-2xx or 3xx responses:\s+(\d+)',s); bad+=int(m.group(1)) if m else 0
m=re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)',s); bad+=sum(map(int,m.groups())) if m else 0
print("\t".join([t,r,rps,"%.3f"%avg]+["%.3f"%pct[k] for k in ('50','75','90','99')]+["%.3f"%mx,str(bad)]+["%.2f"%(int(x)/100) for x in (a,b,c,d)]+[open("/proc/loadavg").read().split()[0]]))
PY
}
warm() { $CLI wrk -t$T -c$C -d3s -H "$(hdr_of $1)" "$(url_of $1)" > /dev/null 2>&1; }
# The JVM needs longer than nginx to reach steady state (JIT): extra warm-up for the gateway cases.
for t in $TESTS; do case $t in gw*) $CLI wrk -t$T -c$C -d10s -H "$(hdr_of $t)" "$(url_of $t)" > /dev/null 2>&1;; esac; done
if [ "${INTERLEAVE:-0}" = 1 ]; then
  for t in $TESTS; do warm $t; done
  for r in $(seq 1 $REPS); do for t in $TESTS; do one $t $r; done; done
else
  for t in $TESTS; do warm $t; for r in $(seq 1 $REPS); do one $t $r; done; done
fi
echo "done $(date -Is)" >> $OUT/sanity.txt
