#!/usr/bin/env bash
# Builds the shim's fuzzers and runs each for a while.
#
#   Fuzz/run.sh [seconds] [target ...]     (default 60 s each; targets: http1 h2 upstream)
#
#   http1  the HTTP/1.1 head parsers and the chunked decoder (pure functions)
#   h2     the HTTP/2 server side: frames → nghttp2 → our callbacks → exchanges → responses
#   upstream  what upstreams send back: pipelined HTTP/1.1, plain HTTP/1.1 and HTTP/2 (h2c)
#          responses → the upstream side → exchanges → clients
#
# Each seed corpus (Fuzz/corpus, Fuzz/corpus-h2, Fuzz/corpus-upstream) is copied to Fuzz/out/ so that a run
# never rewrites it; crash inputs land in Fuzz/out/ (ignored by git). Exits non-zero when
# a fuzzer finds a crash, a leak or an invariant failure.
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(http1 h2 upstream)
root="$(cd "$(dirname "$0")/.." && pwd)"
clang="${CLANG:-/opt/swift/usr/bin/clang}"
out="$root/Fuzz/out"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I CSupport/include -I Fuzz)

cd "$root"
mkdir -p "$out"
overall=0
for target in "${targets[@]}"; do
    case "$target" in
    http1) sources=(CSupport/http1_parser.c CSupport/chunked.c Fuzz/fuzz_http1.c); libs=(); corpus=Fuzz/corpus ;;
    h2) sources=(CSupport/*.c Fuzz/fuzz_h2.c); libs=(-luv -lssl -lcrypto -lnghttp2 -lpthread); corpus=Fuzz/corpus-h2 ;;
    upstream) sources=(CSupport/*.c Fuzz/fuzz_upstream.c); libs=(-luv -lssl -lcrypto -lnghttp2 -lpthread); corpus=Fuzz/corpus-upstream ;;
    *) echo "unknown fuzz target: $target" >&2; exit 2 ;;
    esac
    name="fuzz_$target"
    # The linker's warnings about sanitizer symbols are noise; show them only on failure.
    if ! "$clang" "${flags[@]}" "${sources[@]}" "${libs[@]}" -o "$out/$name" >"$out/$name.build.log" 2>&1; then
        grep -v 'Cannot export local symbol' "$out/$name.build.log" >&2
        echo "$name: build failed" >&2
        exit 2
    fi
    rm -rf "$out/corpus-$target"
    cp -R "$corpus" "$out/corpus-$target"
    log="$out/$name.log"
    status=0
    "$out/$name" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$out/$name-" "$out/corpus-$target" >"$log" 2>&1 || status=$?
    runs="$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)"
    if [ "$status" -eq 0 ]; then
        echo "$name: OK — ${runs:-no summary} (no crashes); log: $log"
    else
        echo "$name: FAILED (exit $status); log: $log" >&2
        grep -E 'ERROR:|invariant failed|SUMMARY:|Test unit written' "$log" >&2 || tail -20 "$log" >&2
        overall=$status
    fi
done
exit "$overall"
