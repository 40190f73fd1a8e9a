#!/usr/bin/env bash
# Fuzzes the configuration reader and the menu model with cargo-fuzz.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Not
# run in CI. Each target starts from fuzz/seeds/TARGET and keeps what it
# learns in fuzz/corpus/TARGET (ignored by git). Any crash, leak, timeout or
# out-of-memory input is copied into tests/corpus/crashers/ and the script
# exits non-zero. Honours CARGO_TARGET_DIR.
set -euo pipefail

secs="${1:-60}"
case "$secs" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
crashers="$root/tests/corpus/crashers"
targets=(config menu_model)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root/fuzz"
failed=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "$work/$t"
    log="$work/$t.log"
    echo "== fuzzing $t for ${secs}s" >&2
    status=0
    cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -max_len=70000 -artifact_prefix="$work/$t/" 2>&1 | tee "$log" >&2 ||
        status=$?
    found=0
    for f in "$work/$t"/*; do
        [ -e "$f" ] || continue
        mkdir -p "$crashers"
        cp "$f" "$crashers/$t-$(basename "$f")"
        echo "crash input saved: tests/corpus/crashers/$t-$(basename "$f")" >&2
        found=$((found + 1))
    done
    done_line="$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1 || true)"
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
        failed=1
        summary+=("$t: FAILED (exit $status, $found crash input(s)) ${done_line}")
    else
        summary+=("$t: ok, ${done_line:-no summary line}")
    fi
done

echo "== summary" >&2
printf '%s\n' "${summary[@]}"
exit "$failed"
