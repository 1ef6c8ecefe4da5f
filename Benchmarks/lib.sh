# Shared pieces of the benchmark scripts: process cleanup, CPU ticks, one wrk run.
# Sourced, not run.

PIDS=()
WORK=$(mktemp -d /tmp/turnpike-bench.XXXXXX)
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT

TICK=$(getconf CLK_TCK)

# A free loopback port (so a run never collides with tests or another benchmark).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure LABEL URL PID SECONDS [wrk args...] -> "LABEL rps p50 p99 cpu_us_per_req non2xx"
measure() {
  local label=$1 url=$2 pid=$3 secs=$4; shift 4
  wrk -t1 -c50 -d2s "$@" "$url" >/dev/null 2>&1
  local before after out reqs
  before=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c50 -d"${secs}s" --latency "$@" "$url")
  after=$(cpu_ticks "$pid")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  printf "%-22s %10s %9s %9s %8s %s\n" "$label" \
    "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" \
    "$(echo "$out" | awk '$1=="99%" {print $2}')" \
    "$(awk -v a="$before" -v b="$after" -v t="$TICK" -v r="$reqs" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / r }')" \
    "$(echo "$out" | awk '/Non-2xx/ {print "non2xx=" $4}')"
}

header() { printf "%-22s %10s %9s %9s %8s\n" target req/s p50 p99 "cpu us/req"; }

# An nginx that answers every request with a small JSON body (the upstream, or the
# cheapest answer nginx can give); one worker unless STATIC_WORKERS says otherwise.
start_static_nginx() {
  local port=$1 name=$2
  mkdir -p "$WORK/$name"
  cat > "$WORK/$name/nginx.conf" <<CONF
worker_processes ${STATIC_WORKERS:-1};
pid $WORK/$name.pid;
error_log $WORK/$name/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;   # pipelined benchmarks send millions on one connection
  server {
    listen 127.0.0.1:$port reuseport;
    location / { default_type application/json; return 200 '{"id":42,"name":"turnpike","ok":true}'; }
  }
}
CONF
  nginx -p "$WORK/$name" -c "$WORK/$name/nginx.conf" -e "$WORK/$name/error.log"
}

nginx_worker_pid() { pgrep -P "$(cat "$WORK/$1.pid")" | head -1; }
nginx_worker_pids() { pgrep -P "$(cat "$WORK/$1.pid")" | tr '\n' ' '; }
# CPU ticks of several processes together.
cpu_ticks_sum() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }

# nginx as a proxy_pass to 127.0.0.1:UPSTREAM with an upstream keep-alive pool; one worker
# unless NGX_WORKERS says otherwise.
# start_proxy_nginx NAME "LISTEN ARGS" UPSTREAM KEEPALIVE ["SERVER LINES"]
start_proxy_nginx() {
  local name=$1 listen=$2 up=$3 keepalive=$4 extra=${5:-}
  mkdir -p "$WORK/$name"
  cat > "$WORK/$name/nginx.conf" <<CONF
worker_processes ${NGX_WORKERS:-1};
pid $WORK/$name.pid;
error_log $WORK/$name/error.log;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$up; keepalive $keepalive; }
  server {
    listen $listen;
    $extra
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  nginx -p "$WORK/$name" -c "$WORK/$name/nginx.conf" -e "$WORK/$name/error.log"
}

# Turnpike proxying everything to 127.0.0.1:UPSTREAM, one worker unless TP_WORKERS says
# otherwise; sets TP to its PID.
# start_turnpike_proxy "LISTENERS (YAML list items)" UPSTREAM "TARGET GROUP FIELDS"
start_turnpike_proxy() {
  local listeners=$1 up=$2 group=$3 workers=${TP_WORKERS:-1}
  cat > "$WORK/turnpike.yaml" <<CONF
listeners:
$listeners
settings:
  workers: $workers
  throttle: { burstLimit: 100000000, rateLimit: 100000000 }   # AWS's 10k rps account default would throttle the benchmark
targetGroups:
  - { name: backend, endpoints: ["127.0.0.1:$up"], $group }
apis:
  - name: bench
    integrations:
      - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://backend" }
    routes:
      - { routeKey: "\$default", target: up }
    stages:
      - { stageName: "\$default" }
CONF
  "$BIN" serve --config "$WORK/turnpike.yaml" --workers "$workers" >"$WORK/turnpike.log" 2>&1 &
  TP=$!
  PIDS+=($TP)
  sleep 1
}
