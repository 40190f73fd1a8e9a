# The checks of an end-to-end script, sourced after scripts/lib/headless.sh
# as `source checks.sh NAME`: `ok` counts a check, `fail` says why (with the app's
# logs) and ends the script; the summary line, "NAME: N passed, M failed",
# is what tests/tray_e2e.rs reads. `start_app` starts the app as a person
# would and waits for its tray item.
# shellcheck shell=bash

CHECKS_NAME=$1
PASSED=0
fail() {
  echo "FAIL: $*" >&2
  echo "--- app log:" >&2
  cat "$TMP"/app*.log >&2 2>/dev/null || true
  echo "$CHECKS_NAME: $PASSED passed, 1 failed"
  exit 1
}
ok() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
# checks_done: the summary line of a script whose every check passed.
checks_done() { echo "$CHECKS_NAME: $PASSED passed, 0 failed"; }

# start_app LOG ARG...: runs the app with ARGs, its output in $TMP/LOG
# (LOG begins with "app"), reaped at exit; waits until its item is
# registered. APP_PID is its pid.
start_app() {
  local log=$1
  shift
  "$APP" "$@" >"$TMP/$log" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  sni_connect
}
