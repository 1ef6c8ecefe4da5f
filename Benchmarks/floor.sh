#!/usr/bin/env bash
# The floor on this machine: what the issue's ratios are measured against, measured here
# instead of taken from another machine.
#
#   Benchmarks/floor.sh [seconds-per-run] [rounds]      (defaults: 5 s, 3 rounds)
#
# Builds Benchmarks/floor/floor_proxy.c (a minimal libuv proxy: one read and one write per
# message) and runs, under wrk -t1 -c50 against one nginx upstream (small JSON body):
#   nginx proxy_pass (one worker, keepalive 64), the C floor proxy, the C floor proxy
#   coalescing requests onto one pipelined upstream connection, Turnpike (one worker),
#   Turnpike with pipelineDepth 8, and nginx answering `return 200` itself,
# in paired rounds with nginx proxy_pass between every other run. It prints each run and
# the medians of CPU per request (user + system, from /proc/PID/stat) and their ratio to
# the mean of the nginx runs beside them, plus user and system time apart. Loopback only.
set -euo pipefail
DURATION=${1:-5}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
for tool in nginx wrk cc; do command -v $tool >/dev/null || { echo "needs $tool"; exit 1; }; done
[ -x "$BIN" ] || { echo "needs $BIN (swift build -c release)"; exit 1; }
LIMIT=$(( ROUNDS * 10 * (DURATION + 5) + 60 ))
if [ -z "${FLOOR_BOUNDED:-}" ]; then
  export FLOOR_BOUNDED=1
  exec timeout --kill-after=15 "$LIMIT" "$0" "$@"
fi
source "$HERE/Benchmarks/lib.sh"
cc -O2 -o "$WORK/floor_proxy" "$HERE/Benchmarks/floor/floor_proxy.c" -luv
UP=$(free_port); NGX=$(free_port); C1=$(free_port); C2=$(free_port); T1=$(free_port); T2=$(free_port)
start_static_nginx "$UP" upstream
start_proxy_nginx proxy "127.0.0.1:$NGX" "$UP" 64
"$WORK/floor_proxy" "$C1" "$UP" & C1P=$!; PIDS+=($C1P)
"$WORK/floor_proxy" "$C2" "$UP" pipeline & C2P=$!; PIDS+=($C2P)
start_turnpike_proxy "  - { name: public, port: $T1, defaultApi: bench }" "$UP" "maxIdleConnectionsPerEndpoint: 64"
TPA=$TP
start_turnpike_proxy "  - { name: public, port: $T2, defaultApi: bench }" "$UP" "maxIdleConnectionsPerEndpoint: 64, pipelineDepth: 8"
TPB=$TP
NGP=$(nginx_worker_pid proxy)
UPP=$(nginx_worker_pid upstream)

RESULTS="$WORK/floor.tsv"
: > "$RESULTS"
# run NAME URL PID: warm-up, one counted run; appends "name cpu_us user_us sys_us rps"
run() {
  local name=$1 url=$2 pid=$3 a b n out
  wrk -t1 -c50 -d1s "$url" >/dev/null 2>&1
  a=$(awk '{print $14, $15}' "/proc/$pid/stat")
  out=$(wrk -t1 -c50 -d"${DURATION}s" "$url")
  b=$(awk '{print $14, $15}' "/proc/$pid/stat")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$name $a $b $n $TICK $(echo "$out" | awk '/Requests\/sec/ {print $2}')" |
    awk '{u = ($4 - $2) / $7 * 1e6 / $6; s = ($5 - $3) / $7 * 1e6 / $6; printf "%s\t%.3f\t%.3f\t%.3f\t%s\n", $1, u + s, u, s, $8}' |
    tee -a "$RESULTS"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "wrk -t1 -c50 -d${DURATION}s; columns: name, CPU µs/req, user, system, req/s"
for r in $(seq 1 "$ROUNDS"); do
  run nginx "http://127.0.0.1:$NGX/" "$NGP"
  run c-floor "http://127.0.0.1:$C1/" "$C1P"
  run nginx "http://127.0.0.1:$NGX/" "$NGP"
  run c-floor-pipelined "http://127.0.0.1:$C2/" "$C2P"
  run nginx "http://127.0.0.1:$NGX/" "$NGP"
  run turnpike "http://127.0.0.1:$T1/" "$TPA"
  run nginx "http://127.0.0.1:$NGX/" "$NGP"
  run turnpike-pipelined "http://127.0.0.1:$T2/" "$TPB"
  run nginx "http://127.0.0.1:$NGX/" "$NGP"
  run nginx-return-200 "http://127.0.0.1:$UP/" "$UPP"
done
run nginx "http://127.0.0.1:$NGX/" "$NGP"
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
med = statistics.median
names, ratios, cpu, user, system = [], {}, {}, {}, {}
for i, (name, c, u, s, rps) in enumerate(rows):
    if name not in names: names.append(name)
    cpu.setdefault(name, []).append(float(c)); user.setdefault(name, []).append(float(u)); system.setdefault(name, []).append(float(s))
    if name != "nginx":
        around = (float(rows[i - 1][1]) + float(rows[i + 1][1])) / 2
        ratios.setdefault(name, []).append(float(c) / around)
print()
print("%-20s %11s %8s %8s %9s" % ("", "cpu µs/req", "user", "system", "× nginx"))
for n in names:
    print("%-20s %11.2f %8.2f %8.2f %9s" % (n, med(cpu[n]), med(user[n]), med(system[n]),
                                           "%.2f×" % med(ratios[n]) if n in ratios else ""))
PY
