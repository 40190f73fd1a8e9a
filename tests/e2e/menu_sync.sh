#!/usr/bin/env bash
# The menu the desktop reads equals the menu the app meant, after every
# change: runs the tray headless (Xvfb, a private D-Bus session, a
# StatusNotifier watcher) on a runtime folder of its own and drives it with
# tests/e2e/menu_sync.py: the named cases, then one seeded random sequence
# per SEED.
#
# Usage: tests/e2e/menu_sync.sh path/to/osaurus-tray [SEED...]
# Needs: xvfb dbus libglib2.0-bin haskell-status-notifier-item-utils xclip
#        busctl (systemd) python3
set -euo pipefail
APP=$(readlink -f "$1")
HERE=$(dirname "$(readlink -f "$0")")
# shellcheck source=../../scripts/lib/headless.sh
source "$HERE/../../scripts/lib/headless.sh"
headless_enter "$0" "$@"
shift
fail() {
  echo "FAIL: $*" >&2
  cat "$TMP"/app.log >&2 2>/dev/null || true
  exit 1
}
headless_setup
start_xvfb
start_sni_watcher

export RUNTIME=$TMP/runtime OSAURUS_TRAY_MENU_DUMP=$TMP/menu.json
mkdir -p "$RUNTIME"
"$APP" --runtime-dir "$RUNTIME" tray --probe-interval 0.3 >"$TMP/app.log" 2>&1 &
APP_PID=$!
PIDS+=($APP_PID)
sni_connect

# The tray never draws with OpenGL: GDK must not map Mesa or libLLVM.
GL=$(grep -oE '/[^ ]*(libGL|libGLX|libEGL|libLLVM|_dri)[^ /]*\.so[^ ]*' "/proc/$APP_PID/maps" | sort -u || true)
[[ -z $GL ]] || fail "the tray maps OpenGL libraries: $GL"
echo "ok: the tray maps no OpenGL library ($(awk '/^RssAnon:/ {print $2 " kB"}' "/proc/$APP_PID/status") anonymous memory)"

run() {
  python3 "$HERE/menu_sync.py" "$@" || fail "menu_sync.py $*"
}
[[ -n ${SKIP_NAMED:-} ]] || run named
for seed in "$@"; do
  run "$seed" "${STEPS:-40}"
done
echo "menu-sync: all passed"
