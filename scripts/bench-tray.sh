#!/usr/bin/env bash
# Measures the menu-bar app on Linux under Xvfb with a StatusNotifier host:
# start-to-tray-ready time, idle CPU ticks and RSS over a window (60 s by
# default; IDLE_SECS to change), with no instance and with the demo's two
# instances (probed every 10 s), and the stripped release binary's size.
#
# Usage: scripts/bench-tray.sh [path/to/release/osaurus-tray]
set -euo pipefail
APP=$(readlink -f "${1:-target/release/osaurus-tray}")
IDLE_SECS=${IDLE_SECS:-60}
if [[ -z "${BENCH_INNER:-}" ]]; then
  export BENCH_INNER=1
  if [[ $(id -u) == 0 ]] && unshare --pid --fork --kill-child --mount-proc true 2>/dev/null; then
    exec unshare --pid --fork --kill-child --mount-proc dbus-run-session -- bash "$0" "$APP"
  fi
  exec dbus-run-session -- bash "$0" "$APP"
fi
export NO_AT_BRIDGE=1 IDLE_SECS
unset WAYLAND_DISPLAY
TMP=$(mktemp -d)
export XDG_RUNTIME_DIR=$TMP/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3>"$TMP/display" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -s $TMP/display ]] && break; sleep 0.05; done
export DISPLAY=:$(head -1 "$TMP/display")
status-notifier-watcher >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5

items() {
  gdbus call --session -d org.kde.StatusNotifierWatcher -o /StatusNotifierWatcher \
    -m org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems |
    grep -c "'" || true
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

measure() { # measure LABEL ARGS...
  local label=$1
  shift
  local before t0 pid ready t_start
  before=$(items)
  t0=$(date +%s%N)
  "$APP" "$@" >"$TMP/app.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  for _ in $(seq 500); do [[ $(items) -gt $before ]] && break; sleep 0.005; done
  ready=$((($(date +%s%N) - t0) / 1000000))
  sleep 3
  t_start=$(ticks $pid)
  sleep "$IDLE_SECS"
  echo "$label: tray ready in ${ready} ms; idle ${IDLE_SECS} s: $(($(ticks $pid) - t_start)) CPU ticks, RSS $(rss_mb $pid) MB"
  kill -TERM $pid
  wait $pid || true
}

echo "binary: $APP, $(stat -c %s "$APP") bytes ($(awk "BEGIN {printf \"%.2f\", $(stat -c %s "$APP") / 1048576}") MiB)"
measure "no instance (empty runtime folder)" --runtime-dir "$TMP/empty"
measure "demo (2 instances, probed every 10 s)" demo
