#!/usr/bin/env bash
# Side-by-side HTTP/1.1 proxy cost: Turnpike vs nginx, one worker each, same upstream.
#
#   Benchmarks/compare-nginx.sh [seconds-per-run] [rounds]
#
# An nginx instance serves a small JSON body as the upstream (it is not what is
# measured). nginx-as-proxy (proxy_pass, keepalive 64, access log off) and Turnpike
# (one worker, access log off) proxy to it. wrk -t1 -c50 drives each in turn,
# alternating nginx, Turnpike, nginx, ... so that slow phases of the machine hit both;
# compare each Turnpike run with the nginx runs on either side of it.
# CPU time per request is read from /proc/PID/stat of the proxy process.
# Everything started here is stopped on exit. Loopback only.
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx-light)"; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
[ -x "$BIN" ] || { echo "needs $BIN (swift build -c release)"; exit 1; }
source "$HERE/Benchmarks/lib.sh"
UP=$(free_port); PX=$(free_port); TP_PORT=$(free_port)

start_static_nginx $UP upstream
mkdir -p "$WORK/proxy"
cat > "$WORK/proxy/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/proxy.pid;
error_log $WORK/proxy/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$PX;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
nginx -p "$WORK/proxy" -c "$WORK/proxy/nginx.conf" -e "$WORK/proxy/error.log"
cat > "$WORK/turnpike.yaml" <<CONF
listeners:
  - { name: public, port: $TP_PORT, defaultApi: bench }
settings:
  workers: 1
  throttle: { burstLimit: 100000000, rateLimit: 100000000 }   # AWS's 10k rps account default would throttle the benchmark
targetGroups:
  - { name: backend, endpoints: ["127.0.0.1:$UP"], maxIdleConnectionsPerEndpoint: 64 }
apis:
  - name: bench
    integrations:
      - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://backend" }
    routes:
      - { routeKey: "\$default", target: up }
    stages:
      - { stageName: "\$default" }
CONF
"$BIN" serve --config "$WORK/turnpike.yaml" --workers 1 >"$WORK/turnpike.log" 2>&1 &
PIDS+=($!)
TP=$!
sleep 1
NGINX=$(nginx_worker_pid proxy)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "proxying a small JSON body: wrk -t1 -c50 -d${DURATION}s, 1 proxy worker, $ROUNDS paired rounds"
header
for r in $(seq 1 "$ROUNDS"); do
  measure "nginx proxy_pass" http://127.0.0.1:$PX/ "$NGINX" "$DURATION"
  measure "turnpike" http://127.0.0.1:$TP_PORT/ "$TP" "$DURATION"
done
measure "nginx proxy_pass" http://127.0.0.1:$PX/ "$NGINX" "$DURATION"
