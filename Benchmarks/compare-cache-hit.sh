#!/usr/bin/env bash
# Cache hit path: Turnpike answering from its stage cache vs nginx answering the same
# bytes with `return 200` (the cheapest answer nginx can give), one worker each, in
# alternating rounds. CPU time per request from /proc/PID/stat.
#
#   Benchmarks/compare-cache-hit.sh [seconds-per-run] [rounds]
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
source "$HERE/Benchmarks/lib.sh"
UP=$(free_port); STATIC_PORT=$(free_port); TP_PORT=$(free_port)

start_static_nginx $UP upstream
start_static_nginx $STATIC_PORT static
cat > "$WORK/turnpike.yaml" <<CONF
listeners:
  - { name: public, port: $TP_PORT, defaultApi: bench }
settings:
  workers: 1
  throttle: { burstLimit: 100000000, rateLimit: 100000000 }
targetGroups:
  - { name: backend, endpoints: ["127.0.0.1:$UP"] }
apis:
  - name: bench
    integrations:
      - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://backend" }
    routes:
      - { routeKey: "GET /item", target: up }
    stages:
      - stageName: \$default
        cacheClusterEnabled: true
        cacheCapacityBytes: 67108864
        defaultRouteSettings: { cachingEnabled: true, cacheTtlInSeconds: 3600 }
CONF
"$BIN" serve --config "$WORK/turnpike.yaml" --workers 1 >"$WORK/turnpike.log" 2>&1 &
PIDS+=($!)
TP=$!
sleep 1
curl -s -o /dev/null http://127.0.0.1:$TP_PORT/item   # fill the entry
STATIC=$(nginx_worker_pid static)

echo "cache hit: wrk -t1 -c50 -d${DURATION}s, $ROUNDS rounds, 1 worker each"
header
for r in $(seq 1 "$ROUNDS"); do
  measure "nginx return 200" http://127.0.0.1:$STATIC_PORT/item "$STATIC" "$DURATION"
  measure "turnpike cache hit" http://127.0.0.1:$TP_PORT/item "$TP" "$DURATION"
done
measure "nginx return 200" http://127.0.0.1:$STATIC_PORT/item "$STATIC" "$DURATION"
