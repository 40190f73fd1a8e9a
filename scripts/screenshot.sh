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
# shellcheck source=lib/headless.sh
source "$(dirname "$(readlink -f "$0")")/lib/headless.sh"
headless_enter "$0" "$APP" "$OUT"
fail() {
  echo "screenshot: $*" >&2
  cat "$TMP/app.log" >&2 2>/dev/null || true
  exit 1
}
headless_setup
start_xvfb 1000x470x24

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
[[ -n $WIN ]] || fail "no tray icon window"
sleep 2.5 # the demo's servers go from starting to running after 1.5 s
eval "$(xdotool getwindowgeometry --shell "$WIN")"
xdotool mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2)) click 1
sleep 0.8
# Open the exposed instance's submenu, the second instance row: past the
# LAN, Internet, tunnel and CORS rows (the header is greyed), then Right.
xdotool key Down Down Down Down Down Down Right
sleep 0.8
mkdir -p "$(dirname "$OUT")"
import -window root "$OUT"
xdotool key Escape Escape
echo "screenshot: wrote $OUT"
