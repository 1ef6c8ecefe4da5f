#!/usr/bin/env bash
# Side-by-side HTTP/1.1 proxy cost: Turnpike vs nginx, one worker each, same upstream.
#
#   Benchmarks/compare-nginx.sh [seconds-per-run] [rounds]
#
# An nginx instance serves a small JSON body as the upstream (it is not what is
# measured). nginx-as-proxy (proxy_pass, keepalive 64, access log off) and Turnpike
# (one worker, access log off) proxy to it. wrk -t1 -c50 drives each in turn,
# alternating nginx, Turnpike, nginx, ... so that slow phases of the machine hit both.
# CPU time per request is read from /proc/PID/stat of the proxy process.
# Everything started here is stopped on exit. Loopback only.
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
WORK=$(mktemp -d /tmp/turnpike-bench.XXXXXX)
UP_PORT=18081 NGINX_PORT=18082 TP_PORT=18083
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/up.pid" ] && kill "$(cat "$WORK/up.pid")" 2>/dev/null || true
  [ -f "$WORK/px.pid" ] && kill "$(cat "$WORK/px.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx-light)"; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
[ -x "$BIN" ] || { echo "needs $BIN (swift build -c release)"; exit 1; }

NGINX=$(command -v nginx)
mkdir -p "$WORK/up" "$WORK/px"
cat > "$WORK/up/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/up.pid;
error_log $WORK/up/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP_PORT reuseport;
    location / { default_type application/json; return 200 '{"id":42,"name":"turnpike","ok":true}'; }
  }
}
CONF
cat > "$WORK/px/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/px.pid;
error_log $WORK/px/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$UP_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
cat > "$WORK/turnpike.yaml" <<CONF
listeners:
  - { name: public, port: $TP_PORT, defaultApi: bench }
settings:
  workers: 1
  throttle: { burstLimit: 100000000, rateLimit: 100000000 }   # AWS's 10k rps account default would throttle the benchmark
targetGroups:
  - { name: backend, endpoints: ["127.0.0.1:$UP_PORT"], maxIdleConnectionsPerEndpoint: 64 }
apis:
  - name: bench
    integrations:
      - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://backend" }
    routes:
      - { routeKey: "\$default", target: up }
    stages:
      - { stageName: "\$default" }
CONF

"$NGINX" -p "$WORK/up" -c "$WORK/up/nginx.conf" -e "$WORK/up/error.log"
"$NGINX" -p "$WORK/px" -c "$WORK/px/nginx.conf" -e "$WORK/px/error.log"
"$BIN" serve --config "$WORK/turnpike.yaml" --workers 1 >"$WORK/turnpike.log" 2>&1 &
PIDS+=($!)
TP_PID=$!
sleep 1
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/px.pid")" | head -1)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# run NAME PORT PID -> prints "rps p50 p99 cpu_us_per_req"
run() {
  local port=$2 pid=$3
  local before after out reqs
  wrk -t1 -c50 -d2s "http://127.0.0.1:$port/" >/dev/null 2>&1   # warm-up, not counted
  before=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
  after=$(cpu_ticks "$pid")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local errors
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  local cpu_us
  cpu_us=$(awk -v a="$before" -v b="$after" -v t="$TICK" -v r="$reqs" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / r }')
  echo "$1 $rps $p50 $p99 $cpu_us $errors"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "wrk -t1 -c50 -d${DURATION}s, small JSON body, 1 proxy worker, $ROUNDS paired rounds"
printf "%-10s %12s %10s %10s %14s\n" proxy req/s p50 p99 "cpu us/req"
for r in $(seq 1 "$ROUNDS"); do
  for target in "nginx $NGINX_PORT $NGINX_WORKER" "turnpike $TP_PORT $TP_PID"; do
    set -- $target
    line=$(run "$1" "$2" "$3")
    set -- $line
    printf "%-10s %12s %10s %10s %14s %s\n" "$1" "$2" "$3" "$4" "$5" "${*:6}"
  done
done
line=$(run nginx $NGINX_PORT "$NGINX_WORKER"); set -- $line
printf "%-10s %12s %10s %10s %14s %s\n" "$1" "$2" "$3" "$4" "$5" "${*:6}"
