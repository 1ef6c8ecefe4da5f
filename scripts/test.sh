#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds debug and release, runs the unit
# tests (swift test), the integration tests against the release binary (pytest, real
# curl and a real upstream on loopback), and a short fuzzing smoke run of the parser.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH
bash scripts/install-deps.sh

echo "== build (debug, release)"
swift build
swift build -c release

echo "== unit tests"
swift test

echo "== integration tests"
# A folder of this run's own: concurrent runs (other work trees) must not prune each other's.
basetemp="$(mktemp -d /tmp/turnpike-pytest.XXXXXX)"
trap 'rm -rf "$basetemp"' EXIT
TURNPIKE_BIN="$PWD/.build/release/turnpike" python3 -m pytest -q -p no:cacheprovider --basetemp "$basetemp" Tests/integration

echo "== micro-benchmarks build (their own package; run them: cd Benchmarks/Micro && swift package --disable-sandbox benchmark)"
(cd Benchmarks/Micro && swift build -c release)

echo "== fuzz smoke runs (HTTP/1.1 parser, HTTP/2 server side, upstream side; 15 s each)"
bash Fuzz/run.sh 15
