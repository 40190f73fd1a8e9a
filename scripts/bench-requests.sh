#!/usr/bin/env bash
# Counts the requests `watch --json` and the menu-bar app send to Osaurus in a
# quiet period (600 s by default) after they start: what they cost the user's
# Osaurus log (its Insights view keeps the last 500 requests). Each client
# gets its own runtime folder and two fake Osaurus servers, each a process of
# its own that logs every request (scripts/fake-osaurus.py): one local, one
# exposed to the LAN with an access key. Reports, per client and instance,
# the requests Osaurus would log, the OPTIONS it answers unlogged, and those
# without `User-Agent: osaurus-tray/<version>`. The tray runs under Xvfb with
# a StatusNotifier host, in a private D-Bus session (scripts/lib/headless.sh);
# nobody opens its menu.
#
# Usage: scripts/bench-requests.sh [SECONDS] [DIR_WITH_RELEASE_BINARIES]
#        (default: 600 s, target/release)
# Env:   CLIENTS="watch tray" (the default; "watch" alone needs no display)
#        WITH_KEY=1 gives the clients the exposed server's key (OSAURUS_API_KEY; the
#          tray sends it to 127.0.0.1/v1/models, watch sends no key)
#        ARGS="--probe-interval 5" extra arguments for both clients
set -euo pipefail
SECONDS_QUIET=${1:-600}
BIN=$(readlink -f "${2:-target/release}")
CLIENTS=${CLIENTS:-watch tray}
HERE=$(dirname "$(readlink -f "$0")")
# shellcheck source=lib/headless.sh
source "$HERE/lib/headless.sh"
fail() {
  echo "bench-requests: $*" >&2
  exit 1
}
[[ $SECONDS_QUIET =~ ^[0-9]+$ && $SECONDS_QUIET -gt 0 ]] || fail "SECONDS must be a positive whole number"
for c in $CLIENTS; do
  [[ $c == watch || $c == tray ]] || fail "unknown client '$c' in CLIENTS (watch, tray)"
done
[[ -x $BIN/osaurus-tray ]] || fail "no $BIN/osaurus-tray (cargo build --release)"
if [[ " $CLIENTS " == *" tray "* ]]; then
  [[ -x $BIN/osaurus-tray-app ]] || fail "no $BIN/osaurus-tray-app (cargo build --release)"
  headless_enter "$0" "$@"
fi
headless_setup
export HOME=$TMP/home
mkdir -p "$HOME"
KEY=bench-$RANDOM$RANDOM
if [[ -n ${WITH_KEY:-} ]]; then export OSAURUS_API_KEY=$KEY; else unset OSAURUS_API_KEY; fi
VERSION=$("$BIN/osaurus-tray" --version | awk '{print $2}')
# shellcheck disable=SC2206
EXTRA=(${ARGS:-})

# start_fake NAME ARGS...: a fake server logging to $TMP/NAME.log; sets PORT.
start_fake() {
  local name=$1
  shift
  python3 "$HERE/fake-osaurus.py" --log "$TMP/$name.log" "$@" >"$TMP/$name.port" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 200); do [[ -s $TMP/$name.port ]] && break; sleep 0.05; done
  [[ -s $TMP/$name.port ]] || fail "the fake server $name did not start: $(cat "$TMP/$name.err")"
  PORT=$(head -1 "$TMP/$name.port")
}

if [[ " $CLIENTS " == *" tray "* ]]; then
  start_xvfb 800x600x24
  start_sni_watcher
fi
RUNS=()
for c in $CLIENTS; do
  mkdir -p "$TMP/rt-$c"
  start_fake "$c-local" --runtime-dir "$TMP/rt-$c"
  echo "$c: local server on 127.0.0.1:$PORT"
  start_fake "$c-exposed" --runtime-dir "$TMP/rt-$c" --expose --key "$KEY"
  echo "$c: exposed server on 0.0.0.0:$PORT (key required)"
  RUNS+=("$c:local=$TMP/$c-local.log" "$c:exposed=$TMP/$c-exposed.log")
done

CLIENT_PIDS=()
for c in $CLIENTS; do
  if [[ $c == watch ]]; then
    "$BIN/osaurus-tray" watch --json --runtime-dir "$TMP/rt-$c" "${EXTRA[@]}" >"$TMP/watch.out" 2>"$TMP/watch.err" &
  else
    "$BIN/osaurus-tray-app" --runtime-dir "$TMP/rt-$c" tray "${EXTRA[@]}" >"$TMP/tray.log" 2>&1 &
  fi
  PIDS+=($!)
  CLIENT_PIDS+=($!)
done
echo "clients ($CLIENTS) started at $(date -u +%H:%M:%S) UTC; quiet for $SECONDS_QUIET s"
sleep "$SECONDS_QUIET"
for p in "${CLIENT_PIDS[@]}"; do
  kill -0 "$p" 2>/dev/null || fail "a client exited early (pid $p); see its log"
done
kill -TERM "${CLIENT_PIDS[@]}"
wait "${CLIENT_PIDS[@]}" 2>/dev/null || true
python3 "$HERE/lib/request_report.py" "$VERSION" "$SECONDS_QUIET" "${RUNS[@]}"
