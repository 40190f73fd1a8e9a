#!/usr/bin/env bash
# Soak test: `watch --json --no-probe` and the menu-bar app (under Xvfb, a
# private D-Bus session and a StatusNotifier watcher, as tests/e2e/tray.sh
# runs it) while scripts/soak_churn.py changes ~8 instance folders about 20
# times a second for SECONDS, the same changes in both runtime folders.
# Every 10 s the RSS and CPU ticks of both are written to /tmp/soak-rss.csv.
# At the end (after 2 s to settle) both must still run, the last `watch`
# line must equal `list --all --json --no-probe`, the listings must agree
# with the churn's own final state, and the tray's menu header must count
# the running instances; then both must exit 0 on SIGTERM.
#
# Usage: scripts/soak.sh [path/to/osaurus-tray] [SECONDS]   (default 600 s)
# Environment: SOAK_SEED, SOAK_RATE, SOAK_IDS (see scripts/soak_churn.py).
# Output: /tmp/soak-rss.csv, /tmp/soak-watch.jsonl, /tmp/soak-*.log, and on
# a mismatch /tmp/soak-mismatch.txt. Last line: "soak: N passed, M failed".
# Needs: xvfb dbus libglib2.0-bin haskell-status-notifier-item-utils perl python3
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(readlink -f "${1:-$HERE/../target/release/osaurus-tray}")
SECS=${2:-600}
[[ -x $APP ]] || { echo "soak: no binary at $APP" >&2; exit 2; }
[[ $SECS =~ ^[0-9]+$ && $SECS -gt 0 ]] || { echo "soak: SECONDS must be a positive integer" >&2; exit 2; }

# shellcheck source=lib/headless.sh
source "$HERE/lib/headless.sh"
headless_enter "$0" "$APP" "$SECS"

OUT=/tmp/soak
rm -f "$OUT"-rss.csv "$OUT"-watch.jsonl "$OUT"-watch.log "$OUT"-tray.log "$OUT"-churn.log \
  "$OUT"-expected.json "$OUT"-layout.txt "$OUT"-mismatch.txt
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
die() { # a failure that stops the soak early
  bad "$*"
  echo "soak: $PASSED passed, $FAILED failed"
  exit 1
}
alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
rss_kb() { proc_rss_kb "$1"; }
ticks() { proc_ticks "$1"; }
now_ms() { date +%s%3N; }
fail() { die "$@"; }

# ---- the desktop: Xvfb and a StatusNotifier watcher ------------------------
headless_setup
RT=$TMP/runtime-watch
RT2=$TMP/runtime-tray
mkdir -p "$RT" "$RT2"
start_xvfb
start_sni_watcher
# header LAYOUT: the menu's top-level "Osaurus …running" label.
header() { menu_label_matching "$1" '^Osaurus(:| is not)' 1; }
header_for() { # header_for N: the header the tray shows for N running instances
  case $1 in
    0) echo "Osaurus is not running" ;;
    1) echo "Osaurus: 1 server running" ;;
    *) echo "Osaurus: $1 servers running" ;;
  esac
}

# ---- the two processes under test ------------------------------------------
"$APP" watch --json --no-probe --runtime-dir "$RT" >"$OUT-watch.jsonl" 2>"$OUT-watch.log" &
WATCH=$!
PIDS+=($WATCH)
"$APP" --runtime-dir "$RT2" tray >"$OUT-tray.log" 2>&1 &
TRAY=$!
PIDS+=($TRAY)
T0=$(now_ms)
sni_connect
echo "tray ready after $(($(now_ms) - T0)) ms; watch pid $WATCH, tray pid $TRAY; binary $APP"
for _ in $(seq 100); do [[ -s $OUT-watch.jsonl ]] && break; sleep 0.05; done
[[ -s $OUT-watch.jsonl ]] || die "watch printed no first line"
H=
for _ in $(seq 100); do
  H=$(header "$(menu_layout)")
  [[ $H == "Osaurus is not running" ]] && break
  sleep 0.05
done
[[ $H == "Osaurus is not running" ]] || die "the tray's header at start is '$H' (layout: $(menu_layout 2>&1 | head -c 600))"
sleep 1

# ---- churn, sampled every 10 s ---------------------------------------------
echo "t,watch_rss_kb,tray_rss_kb,watch_ticks,tray_ticks" >"$OUT-rss.csv"
sample() { echo "$1,$(rss_kb $WATCH),$(rss_kb $TRAY),$(ticks $WATCH),$(ticks $TRAY)" >>"$OUT-rss.csv"; }
WT0=$(ticks $WATCH)
TT0=$(ticks $TRAY)
SOAK_EXPECTED=$OUT-expected.json python3 "$HERE/soak_churn.py" "$SECS" "$RT" "$RT2" >"$OUT-churn.log" 2>&1 &
CHURN=$!
PIDS+=($CHURN)
C0=$(now_ms)
sample 0
NEXT=10
while alive $CHURN; do
  if (($(now_ms) - C0 >= NEXT * 1000)); then
    sample $NEXT
    NEXT=$((NEXT + 10))
  fi
  sleep 0.1
done
CRC=0
wait $CHURN || CRC=$?
cat "$OUT-churn.log"
sleep 2
sample end
WT1=$(ticks $WATCH)
TT1=$(ticks $TRAY)

# ---- checks ------------------------------------------------------------------
CHANGES=$(sed -n 's/^churn: \([0-9]*\) changes.*/\1/p' "$OUT-churn.log")
if [[ $CRC == 0 && -n $CHANGES && $CHANGES -ge $((SECS * 18)) ]]; then
  ok "churn made $CHANGES changes in $SECS s"
else
  bad "churn exited $CRC after ${CHANGES:-no} changes (wanted about $((SECS * 20)))"
fi
WATCH_UP=0
TRAY_UP=0
if alive $WATCH; then WATCH_UP=1 && ok "watch still runs"; else bad "watch died: $(tail -5 "$OUT-watch.log")"; fi
if alive $TRAY; then TRAY_UP=1 && ok "tray still runs"; else bad "tray died: $(tail -5 "$OUT-tray.log")"; fi

list_all() { "$APP" --runtime-dir "$1" list --all --json --no-probe; }
# compare_watch: the last watch line against list --all --json --no-probe.
compare_watch() {
  python3 - "$OUT-watch.jsonl" "$1" <<'EOF'
import difflib, json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
last = json.loads(lines[-1])["instances"]
listed = json.load(open(sys.argv[2], encoding="utf-8"))
if last == listed:
    sys.exit(0)
a = json.dumps(last, indent=1, sort_keys=True).splitlines()
b = json.dumps(listed, indent=1, sort_keys=True).splitlines()
print("\n".join(difflib.unified_diff(a, b, "watch (last line, %s)" % json.loads(lines[-1])["at"], "list --all", lineterm="")))
sys.exit(1)
EOF
}
list_all "$RT" >"$TMP/list-rt.json" || true
if ((WATCH_UP)) && compare_watch "$TMP/list-rt.json" >"$TMP/diff"; then
  ok "watch's last line ($(wc -l <"$OUT-watch.jsonl") lines) equals list --all --json --no-probe"
elif ((WATCH_UP)); then
  { echo "== watch vs list at the end + 2 s"; cat "$TMP/diff"; } >>"$OUT-mismatch.txt"
  sleep 5
  list_all "$RT" >"$TMP/list-rt2.json" || true
  if compare_watch "$TMP/list-rt2.json" >/dev/null; then LATER="agree 5 s later"; else LATER="still differ 5 s later"; fi
  bad "watch's last line differs from list (diff in $OUT-mismatch.txt; $LATER):"
  head -40 "$TMP/diff"
fi

# agree_with_churn DIR: list --all of DIR against the churn's final state.
agree_with_churn() {
  list_all "$1" >"$TMP/agree.json" || true
  python3 -c '
import json, sys
listed = json.load(open(sys.argv[2]))
want = json.load(open(sys.argv[1]))
got = [{"instanceId": i["instanceId"], "state": i["state"], "port": i["port"], "address": i["address"],
        "exposeToNetwork": i["exposeToNetwork"]} for i in listed]
key = lambda i: i["instanceId"]
for w in want:
    if w["state"] != "running":
        w.update(port=None, address=None, exposeToNetwork=None)
if sorted(got, key=key) == sorted(want, key=key):
    sys.exit(0)
print("list: ", json.dumps(sorted(got, key=key)))
print("churn:", json.dumps(sorted(want, key=key)))
sys.exit(1)' "$OUT-expected.json" "$TMP/agree.json"
}
for D in "$RT" "$RT2"; do
  if agree_with_churn "$D" >"$TMP/diff" 2>&1; then
    ok "list of $(basename "$D") agrees with the churn's final state"
  else
    { echo "== list of $D vs the churn"; cat "$TMP/diff"; } >>"$OUT-mismatch.txt"
    bad "list of $(basename "$D") disagrees with the churn: $(cat "$TMP/diff")"
  fi
done

"$APP" --runtime-dir "$RT2" list --json --no-probe >"$TMP/running.json" 2>/dev/null || true
RUNNING=$(python3 -c 'import json, sys; t = open(sys.argv[1]).read().strip(); print(len(json.loads(t)) if t else 0)' "$TMP/running.json")
WANT=$(header_for "$RUNNING")
if ((TRAY_UP)); then
  L=$(menu_layout)
  echo "$L" >"$OUT-layout.txt"
  H=$(header "$L")
  if [[ $H == "$WANT" ]]; then
    ok "the tray's header is '$H'"
  else
    sleep 5
    H2=$(header "$(menu_layout)")
    bad "the tray's header is '$H', want '$WANT' ($RUNNING running); 5 s later: '$H2' (layout in $OUT-layout.txt)"
  fi
fi

for P in watch:$WATCH tray:$TRAY; do
  NAME=${P%%:*}
  PID=${P#*:}
  alive "$PID" || continue
  kill -TERM "$PID"
  for _ in $(seq 100); do alive "$PID" || break; sleep 0.05; done
  RC=0
  if alive "$PID"; then bad "$NAME still runs 5 s after SIGTERM"; continue; fi
  wait "$PID" || RC=$?
  if [[ $RC == 0 ]]; then ok "$NAME exits 0 on SIGTERM"; else bad "$NAME exited $RC on SIGTERM"; fi
done
if grep -l 'panicked' "$OUT-watch.log" "$OUT-tray.log" >/dev/null 2>&1; then
  bad "a panic was logged: $(grep -h -m3 panicked "$OUT-watch.log" "$OUT-tray.log")"
else
  ok "no panic logged"
fi

# ---- figures -------------------------------------------------------------------
python3 - "$OUT-rss.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def at(t):
    return next((r for r in rows if r["t"] == t), None)
warm = at("60") or rows[0]
end = rows[-1]
for who in ("watch", "tray"):
    k = who + "_rss_kb"
    try:
        w, e = int(warm[k]), int(end[k])
        peak = max(int(r[k]) for r in rows if r[k])
        print("%-5s RSS: %d kB at t=%s s, %d kB at the end, growth %+d kB, peak %d kB"
              % (who, w, warm["t"], e, e - w, peak))
    except (ValueError, TypeError):
        print("%-5s RSS: not sampled to the end" % who)
EOF
echo "CPU ticks during churn + settle: watch $((${WT1:-0} - ${WT0:-0})), tray $((${TT1:-0} - ${TT0:-0})) (at $(getconf CLK_TCK)/s)"
echo "soak: $PASSED passed, $FAILED failed"
((FAILED == 0))
