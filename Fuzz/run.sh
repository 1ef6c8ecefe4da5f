#!/usr/bin/env bash
# Builds the HTTP/1.1 parser fuzzer and runs it for a while.
#
#   Fuzz/run.sh [seconds]     (default 60)
#
# The seed corpus is copied to Fuzz/out/corpus so that a run never rewrites it; crash
# inputs land in Fuzz/out/ (ignored by git). Exits non-zero when the fuzzer finds a
# crash or an invariant failure.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
clang="${CLANG:-/opt/swift/usr/bin/clang}"
out="$root/Fuzz/out"

cd "$root"
mkdir -p "$out"
# The linker's warnings about sanitizer symbols are noise; show them only on failure.
if ! "$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I CSupport/include CSupport/http1_parser.c CSupport/chunked.c Fuzz/fuzz_http1.c \
    -o "$out/fuzz_http1" >"$out/build.log" 2>&1; then
    grep -v 'Cannot export local symbol' "$out/build.log" >&2
    echo "fuzz_http1: build failed" >&2
    exit 2
fi

rm -rf "$out/corpus"
cp -R Fuzz/corpus "$out/corpus"

log="$out/fuzz_http1.log"
status=0
"$out/fuzz_http1" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" >"$log" 2>&1 || status=$?

runs="$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)"
if [ "$status" -eq 0 ]; then
    echo "fuzz_http1: OK — ${runs:-no summary} (no crashes); log: $log"
else
    echo "fuzz_http1: FAILED (exit $status); log: $log" >&2
    grep -E 'ERROR:|invariant failed|SUMMARY:|Test unit written' "$log" >&2 || tail -20 "$log" >&2
fi
exit "$status"
