#!/usr/bin/env bash
# Takes a screenshot of the tray icon and its open menu, headless, running
# `osaurus-tray demo` under Xvfb. With no StatusNotifier watcher on the bus,
# AppIndicator falls back to an XEmbed icon, which `trayer` shows.
#
# Usage: scripts/screenshot.sh path/to/osaurus-tray out.png
# Needs: xvfb dbus trayer xdotool imagemagick
set -euo pipefail
APP=$(readlink -f "$1")
OUT=$(readlink -m "$2")
if [[ -z "${SHOT_INNER:-}" ]]; then
  export SHOT_INNER=1
  if [[ $(id -u) == 0 ]] && unshare --pid --fork --kill-child --mount-proc true 2>/dev/null; then
    exec unshare --pid --fork --kill-child --mount-proc dbus-run-session -- bash "$0" "$APP" "$OUT"
  fi
  exec dbus-run-session -- bash "$0" "$APP" "$OUT"
fi
export NO_AT_BRIDGE=1
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

Xvfb -displayfd 3 -screen 0 900x420x24 -nolisten tcp 3>"$TMP/display" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -s $TMP/display ]] && break; sleep 0.05; done
export DISPLAY=:$(head -1 "$TMP/display")

trayer --edge top --align right --widthtype request --height 28 --SetDockType true \
  --transparent false --tint 0x303030 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do xdotool search --class trayer >/dev/null 2>&1 && break; sleep 0.05; done

"$APP" demo >"$TMP/app.log" 2>&1 &
PIDS+=($!)
WIN=
for _ in $(seq 100); do
  WIN=$(xdotool search --onlyvisible --class "tray-icon tray app" 2>/dev/null | head -1 || true)
  [[ -n $WIN ]] && break
  sleep 0.1
done
[[ -n $WIN ]] || { echo "screenshot: no tray icon window" >&2; cat "$TMP/app.log" >&2; exit 1; }
sleep 2.5 # the demo's servers go from starting to running after 1.5 s
eval "$(xdotool getwindowgeometry --shell "$WIN")"
xdotool mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2)) click 1
sleep 0.8
# Open the exposed instance's submenu: header, warning, separator, 2 rows.
xdotool key Down Down Right
sleep 0.8
mkdir -p "$(dirname "$OUT")"
import -window root "$OUT"
xdotool key Escape Escape
echo "screenshot: wrote $OUT"
