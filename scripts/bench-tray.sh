#!/usr/bin/env bash
# Measures the menu-bar app on Linux under Xvfb with a StatusNotifier host:
# start-to-tray-ready time, idle CPU ticks and RSS over a window (60 s by
# default; IDLE_SECS to change), with no instance and with the demo's two
# instances (probed every 10 s): RSS, private (anonymous) memory and the
# libraries mapped; and the stripped release binary's size.
#
# Usage: scripts/bench-tray.sh [path/to/release/osaurus-tray-app]
set -euo pipefail
APP=$(readlink -f "${1:-target/release/osaurus-tray-app}")
IDLE_SECS=${IDLE_SECS:-60}
# shellcheck source=lib/headless.sh
source "$(dirname "$(readlink -f "$0")")/lib/headless.sh"
headless_enter "$0" "$APP"
fail() {
  echo "bench-tray: $*" >&2
  exit 1
}
headless_setup
start_xvfb 800x600x24
start_sni_watcher

measure() { # measure LABEL ARGS...
  local label=$1 before t0 pid ready t_start
  shift
  before=$(sni_items | wc -l)
  t0=$(date +%s%N)
  "$APP" "$@" >"$TMP/app.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  for _ in $(seq 1000); do [[ $(sni_items | wc -l) -gt $before ]] && break; sleep 0.005; done
  ready=$((($(date +%s%N) - t0) / 1000000))
  sleep 3
  t_start=$(proc_ticks $pid)
  sleep "$IDLE_SECS"
  echo "$label: tray ready in ${ready} ms; idle ${IDLE_SECS} s: $(($(proc_ticks $pid) - t_start)) CPU ticks," \
    "RSS $(awk "BEGIN {printf \"%.1f\", $(proc_rss_kb $pid) / 1024}") MB," \
    "private (anonymous) $(awk '/^RssAnon:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status") MB," \
    "$(grep -oE '/[^ ]+\.so[^ ]*' "/proc/$pid/maps" | sort -u | wc -l) libraries mapped," \
    "OpenGL/LLVM: $(grep -qE 'libLLVM|libGL' "/proc/$pid/maps" && echo mapped || echo none)"
  kill -TERM $pid
  wait $pid || true
  for _ in $(seq 100); do [[ $(sni_items | wc -l) -le $before ]] && break; sleep 0.05; done
}

SIZE=$(stat -c %s "$APP")
echo "binary: $APP, $SIZE bytes ($(awk "BEGIN {printf \"%.2f\", $SIZE / 1048576}") MiB)"
measure "no instance (empty runtime folder)" --runtime-dir "$TMP/empty"
measure "demo (2 instances, probed every 10 s)" demo
