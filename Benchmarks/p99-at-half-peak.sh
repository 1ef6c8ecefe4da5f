#!/usr/bin/env bash
# Added p99 latency at half of nginx's peak rate: the upstream alone, nginx proxy_pass and
# Turnpike (one worker each, keep-alive pools of 64), driven by turnpike-bench's open loop so
# that latency counts from each request's intended send time (no coordinated omission).
#
#   Benchmarks/p99-at-half-peak.sh [seconds-per-run] [rounds]     (defaults: 10 s, 2 rounds)
#
# 1. nginx's peak: a closed loop, -c 50, for 5 s.
# 2. An open loop at half that rate against the upstream itself, then nginx, Turnpike,
#    nginx, Turnpike, ...; each proxy's "added p99" is its p99 minus the upstream's.
# Everything started here is stopped on exit. Loopback only.
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-2}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
BENCH=${TURNPIKE_BENCH_BIN:-$HERE/.build/release/turnpike-bench}
command -v nginx >/dev/null || { echo "needs nginx (scripts/install-deps.sh)"; exit 1; }
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "needs $BIN and $BENCH (swift build -c release)"; exit 1; }
source "$HERE/Benchmarks/lib.sh"
UP=$(free_port); PX=$(free_port); TP_PORT=$(free_port)

start_static_nginx $UP upstream
start_proxy_nginx proxy "127.0.0.1:$PX" $UP 64
start_turnpike_proxy "  - { name: public, port: $TP_PORT, defaultApi: bench }" $UP "maxIdleConnectionsPerEndpoint: 64"

peak=$("$BENCH" -c 50 -d 5s --warmup 1s --json "http://127.0.0.1:$PX/" |
  python3 -c 'import json, sys; print(int(json.load(sys.stdin)["requests_per_s"]))')
half=$((peak / 2))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "nginx peak (closed loop, -c 50): $peak req/s; open loop at $half req/s, ${DURATION}s per run"
printf "%-10s %9s %9s %9s %9s %11s\n" target req/s p50 p99 p99.9 "added p99"
run() {
  "$BENCH" -c 50 -R "$half" -d "${DURATION}s" --warmup 1s --json "http://127.0.0.1:$2/" > "$WORK/run.json"
  python3 - "$WORK/run.json" "$1" "${3:-}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); l = r["latency_us"]
base = float(sys.argv[3]) if sys.argv[3] else None
added = "" if base is None else "%+.0f µs" % (l["p99"] - base)
print("%-10s %9d %6.0f µs %6.0f µs %6.0f µs %11s" % (sys.argv[2], r["requests_per_s"], l["p50"], l["p99"], l["p99_9"], added))
with open(sys.argv[1] + ".p99", "w") as f: f.write(str(l["p99"]))
PY
}
run upstream "$UP"
base=$(cat "$WORK/run.json.p99")
for r in $(seq 1 "$ROUNDS"); do
  run nginx "$PX" "$base"
  run turnpike "$TP_PORT" "$base"
done
