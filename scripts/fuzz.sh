#!/usr/bin/env bash
# Fuzzes the configuration reader and the menu model (the targets in fuzz/)
# with libFuzzer, on the stable toolchain: no nightly, no cargo-fuzz. The
# targets are built with rustc's SanitizerCoverage flags (the ones cargo-fuzz
# passes, minus -Zsanitizer: no AddressSanitizer on stable), then each runs
# for SECONDS from a temporary copy of fuzz/seeds/TARGET, one job at a time,
# so nothing in the repository changes.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 300
#   TARGET              default: config menu_model
# Environment:
#   FUZZ_MINIMIZE_SECS  time to minimise each crash input (default 60; 0: don't)
#   FUZZ_KEEP_CRASHERS  1: also copy crash inputs into tests/corpus/crashers/,
#                       where tests/hostile.rs replays the config-* ones
#   CARGO_TARGET_DIR    honoured (default fuzz/target)
# Output: one line per target, e.g.
#   config: runs 1234567, cov 905, ft 2210, exec/s 4100, crash: no
# Crash inputs (and their minimised forms) are kept in fuzz/artifacts/TARGET/
# (ignored by git), each with the panic and backtrace of a replay printed;
# replay one with `fuzz/target/<host>/release/TARGET FILE`. Exits 1 if any
# target crashed, 2 on bad usage.
# Needs: a C++ compiler (libfuzzer-sys builds libFuzzer), the main crate's
# system libraries (GTK on Linux).
set -euo pipefail

secs=${1:-300}
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] || {
  echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(config menu_model)
minimize_secs=${FUZZ_MINIMIZE_SECS:-60}

root=$(cd "$(dirname "$0")/.." && pwd)
host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=${CARGO_TARGET_DIR:-$root/fuzz/target}/$host/release
artifacts=$root/fuzz/artifacts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

# SanitizerCoverage as cargo-fuzz sets it up: 8-bit edge counters and PC
# tables for libFuzzer's coverage, compare tracing for its value profile.
# `--target` keeps these flags off build scripts and proc macros, which are
# not linked against libFuzzer.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks \
${RUSTFLAGS:-}"
# Line tables, so that a panic's backtrace names files and lines.
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
echo "== building ${targets[*]} (release, $host)" >&2
(cd "$root/fuzz" && cargo build --release --target "$host" "${bins[@]}") >&2

# field NAME LINE: the number after "NAME: " in a libFuzzer status line.
field() { sed -nE "s|.*[[:space:]]$1: ([0-9]+).*|\\1|p" <<<"$2"; }

failed=0
summary=()
for t in "${targets[@]}"; do
  bin=$bin_dir/$t
  [[ -d $root/fuzz/seeds/$t ]] || { echo "fuzz: no seeds in fuzz/seeds/$t" >&2; exit 2; }
  corpus=$work/corpus/$t
  out=$work/artifacts/$t
  mkdir -p "$corpus" "$out"
  cp "$root/fuzz/seeds/$t"/* "$corpus"/
  log=$work/$t.log
  echo "== fuzzing $t for ${secs}s" >&2
  status=0
  "$bin" "$corpus" -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/" 2>&1 | tee "$log" >&2 || status=$?

  # The last status line: "#RUNS DONE cov: C ft: F corp: … exec/s: E rss: …",
  # or the last one before a crash.
  last=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -n 1 || true)
  runs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]+([0-9]+)/\1/p' "$log" | tail -n 1)
  [[ -n $runs ]] || runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(field cov "$last")
  ft=$(field ft "$last")
  eps=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]+([0-9]+)/\1/p' "$log" | tail -n 1)
  [[ -n $eps ]] || eps=$(field exec/s "$last")

  crashes=()
  for f in "$out"/*; do
    if [[ -e $f ]]; then crashes+=("$f"); fi
  done
  if [[ $status -ne 0 || ${#crashes[@]} -gt 0 ]]; then
    failed=1
    mkdir -p "$artifacts/$t"
    for f in "${crashes[@]}"; do
      name=$(basename "$f")
      keep=$artifacts/$t/$name
      cp "$f" "$keep"
      if [[ $minimize_secs -gt 0 ]]; then
        echo "== minimising $name for up to ${minimize_secs}s" >&2
        "$bin" "$keep" -minimize_crash=1 -max_total_time="$minimize_secs" -runs=1000000 \
          -exact_artifact_path="$keep.min" >"$work/$t-min.log" 2>&1 || true
        [[ -s $keep.min ]] && keep=$keep.min
      fi
      echo "== crash input fuzz/artifacts/$t/$(basename "$keep") ($(wc -c <"$keep") bytes):" >&2
      od -An -c "$keep" | head -n 40 >&2
      echo "== its replay:" >&2
      RUST_BACKTRACE=1 "$bin" "$keep" 2>&1 | grep -vE '^(INFO|\*\*\*|MS:|base unit|artifact_prefix|Test unit)' >&2 || true
      if [[ ${FUZZ_KEEP_CRASHERS:-} == 1 ]]; then
        mkdir -p "$root/tests/corpus/crashers"
        cp "$keep" "$root/tests/corpus/crashers/$t-$(basename "$keep")"
        echo "== copied to tests/corpus/crashers/$t-$(basename "$keep")" >&2
      fi
    done
    summary+=("$t: runs ${runs:-?}, cov ${cov:-?}, ft ${ft:-?}, exec/s ${eps:-?}, crash: YES (exit $status, ${#crashes[@]} input(s) in fuzz/artifacts/$t/)")
  else
    summary+=("$t: runs ${runs:-?}, cov ${cov:-?}, ft ${ft:-?}, exec/s ${eps:-?}, crash: no")
  fi
done

echo "== summary ($(($(date +%s) - start)) s in all)" >&2
printf '%s\n' "${summary[@]}"
exit "$failed"
