#!/usr/bin/env bash
# What the gateway adds around a warm Lambda function: one local function (one warm
# awslambdaric process running a handler that returns a small JSON response) behind an
# HTTP API route, driven by one wrk connection (the function serves one event at a time).
# Reports requests/s through the process, the gateway's CPU per invocation, the Python
# process's CPU per invocation, and the gateway's own p50/p99 from /admin/lambda: request
# in → event on /next (inbound) and /response in → response out (outbound).
#
#   Benchmarks/lambda-overhead.sh [seconds]
set -euo pipefail
DURATION=${1:-10}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
source "$HERE/Benchmarks/lib.sh"
TP_PORT=$(free_port); ADMIN=$(free_port)

mkdir -p "$WORK/fn"
cat > "$WORK/fn/app.py" <<'PY'
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"ok":true}'}
PY
cat > "$WORK/turnpike.yaml" <<YAML
listeners:
  - { name: public, port: $TP_PORT, defaultApi: bench }
  - { name: admin, port: $ADMIN, admin: true }
functions:
  - { name: bench, command: ["python3", "-m", "awslambdaric", "app.handler"], workingDirectory: $WORK/fn,
      timeoutSeconds: 10, reservedConcurrency: 1 }
apis:
  - name: bench
    integrations: [{ name: fn, integrationType: AWS_PROXY, integrationUri: "function:bench", payloadFormatVersion: "2.0" }]
    routes: [{ routeKey: "GET /bench", target: fn }]
    stages: [{ stageName: \$default }]
YAML
"$BIN" serve --config "$WORK/turnpike.yaml" --workers 1 > "$WORK/gateway.log" 2>&1 &
GW=$!; PIDS+=($GW)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$TP_PORT/bench" >/dev/null 2>&1 && break; sleep 0.1; done
FN=$(pgrep -P "$GW" | head -1)
URL="http://127.0.0.1:$TP_PORT/bench"
wrk -t1 -c1 -d2s "$URL" >/dev/null 2>&1
g0=$(cpu_ticks "$GW"); f0=$(cpu_ticks "$FN")
out=$(wrk -t1 -c1 -d"${DURATION}s" --latency "$URL")
g1=$(cpu_ticks "$GW"); f1=$(cpu_ticks "$FN")
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
echo "requests/s through one warm Python process: $(echo "$out" | awk '/Requests\/sec/ {print $2}')"
echo "client latency p50/p99: $(echo "$out" | awk '$1=="50%" {print $2}') / $(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | awk '/Non-2xx/ {print "non2xx=" $4}')"
awk -v a="$g0" -v b="$g1" -v t="$TICK" -v r="$reqs" 'BEGIN { printf "gateway CPU per invocation: %.1f us\n", (b - a) / t * 1e6 / r }'
awk -v a="$f0" -v b="$f1" -v t="$TICK" -v r="$reqs" 'BEGIN { printf "function process CPU per invocation: %.1f us\n", (b - a) / t * 1e6 / r }'
echo "gateway overhead (last 10,000 invocations, us): $(curl -s "http://127.0.0.1:$ADMIN/admin/lambda")"
