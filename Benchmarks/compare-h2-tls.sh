#!/usr/bin/env bash
# HTTP/2 over TLS and TLS handshakes: Turnpike vs nginx, one worker each, same certificate,
# same upstream (an nginx answering a small JSON body, keep-alive pools of 1024 on both proxies:
# 500 streams in flight would otherwise churn upstream connections on both).
#
#   Benchmarks/compare-h2-tls.sh [seconds-per-run] [rounds]
#
# Two workloads, each in paired rounds (nginx, Turnpike, nginx, ...) so that the machine's
# slow phases hit both:
#   h2      h2load -c 50 -m 10 over TLS (ALPN h2): requests/s, mean latency, CPU µs/request
#   tls-hs  wrk -t1 -c50 with "Connection: close" over TLS: every request is a new connection
#           and a full handshake (no resumption): connections/s and CPU µs/connection
# CPU time is read from /proc/PID/stat of the proxy process. Loopback only; everything
# started here is stopped on exit.
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
for tool in nginx h2load wrk openssl; do
  command -v $tool >/dev/null || { echo "needs $tool (scripts/install-deps.sh)"; exit 1; }
done
[ -x "$BIN" ] || { echo "needs $BIN (swift build -c release)"; exit 1; }
source "$HERE/Benchmarks/lib.sh"
UP=$(free_port); PX=$(free_port); TP_PORT=$(free_port); ADMIN=$(free_port)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench.local \
  -addext subjectAltName=DNS:bench.local,IP:127.0.0.1 -keyout "$WORK/bench.key" -out "$WORK/bench.pem" 2>/dev/null

start_static_nginx $UP upstream
# Keep-alive pools of 1024 on both: 500 streams in flight would otherwise churn upstream connections.
start_proxy_nginx proxy "127.0.0.1:$PX ssl http2" $UP 1024 \
  "ssl_certificate $WORK/bench.pem; ssl_certificate_key $WORK/bench.key; ssl_protocols TLSv1.2 TLSv1.3;"
start_turnpike_proxy "  - { name: public, port: $TP_PORT, protocol: HTTPS, defaultApi: bench, unknownServerName: DEFAULT, certificate: { chain: $WORK/bench.pem, key: $WORK/bench.key } }
  - { name: admin, port: $ADMIN, admin: true }" $UP "maxIdleConnectionsPerEndpoint: 1024, maxConnectionsPerEndpoint: 2048"
NGINX=$(nginx_worker_pid proxy)

# h2 LABEL PORT PID -> "LABEL rps mean-latency cpu_us_per_req failed"
h2() {
  local label=$1 port=$2 pid=$3
  h2load -c 50 -m 10 -D 2 "https://127.0.0.1:$port/" >/dev/null 2>&1
  local before after out done
  before=$(cpu_ticks "$pid")
  out=$(h2load -c 50 -m 10 -D "$DURATION" "https://127.0.0.1:$port/")
  after=$(cpu_ticks "$pid")
  done=$(echo "$out" | awk '/^requests:/ {print $8}')
  printf "%-22s %10s %10s %9s %s\n" "$label" \
    "$(echo "$out" | awk '/^finished in/ {print $4}')" \
    "$(echo "$out" | awk '/^time for request:/ {print $6}')" \
    "$(awk -v a="$before" -v b="$after" -v t="$TICK" -v r="$done" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / r }')" \
    "$(echo "$out" | awk '/^requests:/ {print "failed=" $10 " succeeded=" $8}')"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== HTTP/2 over TLS, small JSON body: h2load -c 50 -m 10 -D ${DURATION}s, 1 proxy worker, $ROUNDS paired rounds"
printf "%-22s %10s %10s %9s\n" target req/s "mean lat" "cpu us/req"
for r in $(seq 1 "$ROUNDS"); do
  h2 "nginx ssl http2" $PX "$NGINX"
  h2 "turnpike h2" $TP_PORT "$TP"
done
h2 "nginx ssl http2" $PX "$NGINX"

echo "== TLS handshake per request (HTTP/1.1, Connection: close): wrk -t1 -c50 -d${DURATION}s"
header
for r in $(seq 1 "$ROUNDS"); do
  measure "nginx ssl" https://127.0.0.1:$PX/ "$NGINX" "$DURATION" -H "Connection: close"
  measure "turnpike https" https://127.0.0.1:$TP_PORT/ "$TP" "$DURATION" -H "Connection: close"
done
measure "nginx ssl" https://127.0.0.1:$PX/ "$NGINX" "$DURATION" -H "Connection: close"
