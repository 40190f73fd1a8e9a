#!/usr/bin/env bash
# Measures how fast a change reaches the desktop's menu on Linux: from the
# rename that completes a configuration.json to the tray's D-Bus
# LayoutUpdated signal, p50/p99/max, with 1 and with 100 instances (each a
# real server on 127.0.0.1), under Xvfb with a StatusNotifier host.
#
# Usage: scripts/bench-menu.sh [path/to/release/osaurus-tray] [CHANGES]
set -euo pipefail
APP=$(readlink -f "${1:-target/release/osaurus-tray}")
# shellcheck source=lib/headless.sh
source "$(dirname "$(readlink -f "$0")")/lib/headless.sh"
headless_enter "$0" "$@"
HERE=$(dirname "$(readlink -f "$0")")
CHANGES=${2:-200}
fail() {
  echo "bench-menu: $*" >&2
  exit 1
}
headless_setup
start_xvfb 800x600x24
start_sni_watcher

for count in 1 100; do
  export RUNTIME=$TMP/runtime-$count MONITOR_LOG=$TMP/monitor-$count.log
  mkdir -p "$RUNTIME"
  dbus-monitor --session "type='signal',interface='com.canonical.dbusmenu',member='LayoutUpdated'" >"$MONITOR_LOG" 2>&1 &
  MON=$!
  PIDS+=($MON)
  "$APP" --runtime-dir "$RUNTIME" tray --probe-interval 3600 >"$TMP/app-$count.log" 2>&1 &
  APP_PID=$!
  PIDS+=($APP_PID)
  sni_connect
  python3 "$HERE/lib/menu_latency.py" "$count" "$CHANGES" || fail "the $count-instance run failed"
  kill -TERM "$APP_PID" "$MON"
  wait "$APP_PID" "$MON" 2>/dev/null || true
  for _ in $(seq 100); do [[ -z $(sni_items) ]] && break; sleep 0.05; done
done
