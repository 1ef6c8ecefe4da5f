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
start_proxy_nginx proxy "127.0.0.1:$PX" $UP 64
start_turnpike_proxy "  - { name: public, port: $TP_PORT, defaultApi: bench }" $UP "maxIdleConnectionsPerEndpoint: 64"
NGINX=$(nginx_worker_pid proxy)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "proxying a small JSON body: wrk -t1 -c50 -d${DURATION}s, 1 proxy worker, $ROUNDS paired rounds"
header
for r in $(seq 1 "$ROUNDS"); do
  measure "nginx proxy_pass" http://127.0.0.1:$PX/ "$NGINX" "$DURATION"
  measure "turnpike" http://127.0.0.1:$TP_PORT/ "$TP" "$DURATION"
done
measure "nginx proxy_pass" http://127.0.0.1:$PX/ "$NGINX" "$DURATION"
