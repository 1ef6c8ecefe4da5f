#!/usr/bin/env bash
# What access control costs per request: one route with a JWT authorizer (RS256, cached
# token), an API key and a usage plan throttle high enough not to trigger, against the
# same route with none of them, on one Turnpike worker, in alternating rounds.
#
#   Benchmarks/access-control-overhead.sh [seconds-per-run] [rounds]
set -euo pipefail
DURATION=${1:-10}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TURNPIKE_BIN:-$HERE/.build/release/turnpike}
source "$HERE/Benchmarks/lib.sh"
UP=$(free_port); TP_PORT=$(free_port)

start_static_nginx $UP upstream
python3 - "$WORK" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
work = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
n = key.public_key().public_numbers()
json.dump({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "n": b64(n.n.to_bytes(256, "big")),
                     "e": b64(n.e.to_bytes(3, "big"))}]}, open(f"{work}/jwks.json", "w"))
h = b64(json.dumps({"alg": "RS256", "kid": "bench"}).encode())
c = b64(json.dumps({"iss": "https://idp.bench", "aud": "bench", "sub": "u", "scope": "read",
                    "exp": int(time.time()) + 3600}).encode())
sig = key.sign(f"{h}.{c}".encode(), padding.PKCS1v15(), hashes.SHA256())
open(f"{work}/headers.lua", "w").write(
    f'wrk.headers["Authorization"] = "Bearer {h}.{c}.{b64(sig)}"\n'
    'wrk.headers["x-api-key"] = "bench-key-0123456789abcdef"\n')
PY
cat > "$WORK/turnpike.yaml" <<CONF
listeners:
  - { name: public, port: $TP_PORT, defaultApi: bench }
settings:
  workers: 1
  throttle: { burstLimit: 100000000, rateLimit: 100000000 }
targetGroups:
  - { name: backend, endpoints: ["127.0.0.1:$UP"] }
authorizers:
  - name: idp
    authorizerType: JWT
    jwtConfiguration: { issuer: "https://idp.bench", audience: ["bench"], jwksUri: "file://$WORK/jwks.json" }
apiKeys:
  - { name: k, value: "bench-key-0123456789abcdef" }
usagePlans:
  - name: plan
    apiStages: [{ api: bench, stage: \$default }]
    throttle: { burstLimit: 100000000, rateLimit: 100000000 }
    apiKeys: [k]
apis:
  - name: bench
    integrations:
      - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://backend" }
    routes:
      - { routeKey: "GET /open", target: up }
      - { routeKey: "GET /secure", target: up, authorizationType: JWT, authorizer: idp, authorizationScopes: [read], apiKeyRequired: true }
    stages:
      - { stageName: \$default }
CONF
"$BIN" serve --config "$WORK/turnpike.yaml" --workers 1 >"$WORK/turnpike.log" 2>&1 &
PIDS+=($!)
TP=$!
sleep 1

echo "access control: wrk -t1 -c50 -d${DURATION}s (same request headers on both routes), $ROUNDS rounds"
header
for r in $(seq 1 "$ROUNDS"); do
  measure "no access control" http://127.0.0.1:$TP_PORT/open "$TP" "$DURATION" -s "$WORK/headers.lua"
  measure "jwt+key+plan" http://127.0.0.1:$TP_PORT/secure "$TP" "$DURATION" -s "$WORK/headers.lua"
done
measure "no access control" http://127.0.0.1:$TP_PORT/open "$TP" "$DURATION" -s "$WORK/headers.lua"
