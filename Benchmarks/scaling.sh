#!/usr/bin/env bash
# Does throughput scale from one worker to two as well as nginx's does?
#
#   Benchmarks/scaling.sh [seconds-per-run] [rounds]      (defaults: 5 s, 3 rounds)
#
# The upstream (nginx, two workers, a small JSON body) and four proxies in front of it:
# nginx with 1 and with 2 workers, Turnpike with 1 and with 2 workers, keep-alive pools of 128,
# logs off. turnpike-bench (2 threads, -c 100, closed loop) drives each in paired rounds:
#   nginx-1, turnpike-1, nginx-2, turnpike-2, ...
# and the table gives medians of requests/s, p99 and CPU per request (all of a proxy's worker
# processes or threads), and each proxy's scaling: requests/s with 2 workers over 1.
# On a 2-core machine the load generator and the upstream share the cores with the proxy, so
# neither proxy can double; what matters is that Turnpike's factor is nginx's or better.
# Everything started here is stopped on exit. Loopback only.
set -euo pipefail
DURATION=${1:-5}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
BENCH=${TURNPIKE_BENCH_BIN:-$HERE/.build/release/turnpike-bench}
command -v nginx >/dev/null || { echo "needs nginx (scripts/install-deps.sh)"; exit 1; }
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "needs $BIN and $BENCH (swift build -c release)"; exit 1; }
LIMIT=$(( ROUNDS * 4 * (DURATION + 10) + 120 ))
if [ -z "${SCALING_BOUNDED:-}" ]; then
  export SCALING_BOUNDED=1
  exec timeout --kill-after=15 "$LIMIT" "$0" "$@"
fi
source "$HERE/Benchmarks/lib.sh"
UP=$(free_port); N1=$(free_port); N2=$(free_port); T1=$(free_port); T2=$(free_port)

STATIC_WORKERS=2 start_static_nginx "$UP" upstream
NGX_WORKERS=1 start_proxy_nginx nginx1 "127.0.0.1:$N1" "$UP" 128
NGX_WORKERS=2 start_proxy_nginx nginx2 "127.0.0.1:$N2" "$UP" 128
TP_WORKERS=1 start_turnpike_proxy "  - { name: public, port: $T1, defaultApi: bench }" "$UP" "maxIdleConnectionsPerEndpoint: 128"
TP1=$TP
TP_WORKERS=2 start_turnpike_proxy "  - { name: public, port: $T2, defaultApi: bench }" "$UP" "maxIdleConnectionsPerEndpoint: 128"
TP2=$TP
sleep 0.5
NG1=$(nginx_worker_pids nginx1)
NG2=$(nginx_worker_pids nginx2)

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
# run NAME URL PIDS...: one counted run
run() {
  local name=$1 url=$2; shift 2
  local before after json
  before=$(cpu_ticks_sum "$@")
  json=$("$BENCH" -t 2 -c 100 -d "${DURATION}s" --warmup 1s --json "$url")
  after=$(cpu_ticks_sum "$@")
  python3 - "$name" "$before" "$after" "$TICK" "$json" >>"$RESULTS" <<'PY'
import json, sys
name, before, after, tick, text = sys.argv[1:]
r = json.loads(text)
cpu = (int(after) - int(before)) / int(tick) * 1e6 / max(r["requests"], 1)
print("\t".join([name, "%.1f" % r["requests_per_s"], "%.1f" % r["latency_us"]["p99"], "%.3f" % cpu, str(r["errors_total"])]))
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "each run: turnpike-bench -t 2 -c 100 -d ${DURATION}s; $ROUNDS rounds of nginx-1, turnpike-1, nginx-2, turnpike-2"
for r in $(seq 1 "$ROUNDS"); do
  # shellcheck disable=SC2086 # the PID lists are meant to split
  run nginx-1 "http://127.0.0.1:$N1/" $NG1
  run turnpike-1 "http://127.0.0.1:$T1/" "$TP1"
  # shellcheck disable=SC2086
  run nginx-2 "http://127.0.0.1:$N2/" $NG2
  run turnpike-2 "http://127.0.0.1:$T2/" "$TP2"
done
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
med = statistics.median
by = {}
for name, rps, p99, cpu, errs in rows:
    by.setdefault(name, []).append((float(rps), float(p99), float(cpu), int(errs)))
print()
print("%-11s %10s %9s %11s %7s" % ("proxy", "req/s", "p99", "cpu µs/req", "errors"))
for name in ["nginx-1", "turnpike-1", "nginx-2", "turnpike-2"]:
    runs = by[name]
    print("%-11s %10.0f %6.0f µs %11.2f %7d" % (name, med([r[0] for r in runs]), med([r[1] for r in runs]),
                                              med([r[2] for r in runs]), sum(r[3] for r in runs)))
print()
for proxy in ["nginx", "turnpike"]:
    one, two = by[proxy + "-1"], by[proxy + "-2"]
    factors = [b[0] / a[0] for a, b in zip(one, two)]
    print("%-9s scaling, 2 workers over 1 (median of rounds): %.2f×" % (proxy, med(factors)))
PY
