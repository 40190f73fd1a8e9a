#!/usr/bin/env bash
# Times how soon the tray's menu tells that a crashed Osaurus is gone, on
# Linux under Xvfb with a StatusNotifier host: from the SIGKILL of a healthy
# server (scripts/fake-osaurus.py, a process of its own with its discovery
# file) to the menu's D-Bus LayoutUpdated after which the instance's row no
# longer reads as alive; p50 and max over KILLS kills
# (scripts/lib/crash_menu.py). The watch --json figure is scripts/bench-crash.py.
#
# Usage: scripts/bench-crash-menu.sh [path/to/release/osaurus-tray-app] [KILLS]
#        (default: target/release/osaurus-tray-app, 20 kills)
# Env:   SETTLE=10 (seconds; the longest wait before a kill)
#        ARGS="--probe-interval 5" (extra arguments for the tray)
set -euo pipefail
APP=$(readlink -f "${1:-target/release/osaurus-tray-app}")
KILLS=${2:-20}
HERE=$(dirname "$(readlink -f "$0")")
# shellcheck source=lib/headless.sh
source "$HERE/lib/headless.sh"
headless_enter "$0" "$@"
fail() {
  echo "bench-crash-menu: $*" >&2
  exit 1
}
[[ -x $APP ]] || fail "no $APP (cargo build --release)"
headless_setup
export HOME=$TMP/home
mkdir -p "$HOME"
unset OSAURUS_API_KEY
start_xvfb 800x600x24
start_sni_watcher
export RUNTIME=$TMP/runtime MONITOR_LOG=$TMP/monitor.log
mkdir -p "$RUNTIME"
dbus-monitor --session "type='signal',interface='com.canonical.dbusmenu',member='LayoutUpdated'" >"$MONITOR_LOG" 2>&1 &
PIDS+=($!)
# shellcheck disable=SC2206
EXTRA=(${ARGS:-})
"$APP" --runtime-dir "$RUNTIME" tray "${EXTRA[@]}" >"$TMP/app.log" 2>&1 &
PIDS+=($!)
sni_connect
python3 "$HERE/lib/crash_menu.py" "$KILLS" "${M[@]}"
