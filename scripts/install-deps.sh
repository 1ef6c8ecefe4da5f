#!/usr/bin/env bash
# Installs what Turnpike needs to build, run and test on Debian: the C libraries of the
# shim, the real clients and servers the integration tests and benchmarks use, and the
# Python packages of the test suite. Safe to run again; skips what is there.
set -euo pipefail
packages=(libuv1-dev libssl-dev libnghttp2-dev libsqlite3-dev pkg-config openssl curl nginx-light wrk nghttp2-client python3 python3-pip haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import pytest, requests, yaml, cryptography, h2, awslambdaric' 2>/dev/null; then
  python3 -m pip install -q pytest requests pyyaml cryptography h2 awslambdaric 2>/dev/null \
    || python3 -m pip install -q --break-system-packages pytest requests pyyaml cryptography h2 awslambdaric
fi
if ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "Swift is at /opt/swift/usr/bin: add it to PATH (export PATH=/opt/swift/usr/bin:\$PATH)" >&2
  else
    echo "Turnpike needs a Swift 6.3 toolchain on PATH (swift.org/install)" >&2
  fi
fi
