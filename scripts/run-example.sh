#!/usr/bin/env bash
# Installs dependencies, builds Turnpike, starts a tiny upstream on 127.0.0.1:9001 and
# serves examples/turnpike.yaml (public 127.0.0.1:8080, admin 127.0.0.1:9901).
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH
bash scripts/install-deps.sh
swift build -c release
python3 Tests/integration/upstream.py --port 9001 >/dev/null 2>&1 &
UPSTREAM=$!
trap 'kill $UPSTREAM 2>/dev/null || true' EXIT
echo "upstream on 127.0.0.1:9001; try: curl -i http://127.0.0.1:8080/pets/7"
.build/release/turnpike serve --config examples/turnpike.yaml
