#!/usr/bin/env bash
# End-to-end test of the menu-bar app on Linux, headless: Xvfb, a private
# D-Bus session, a StatusNotifier watcher; the menu is read and clicked over
# com.canonical.dbusmenu, the clipboard read back with xclip.
#
# Usage: tests/e2e/tray.sh path/to/osaurus-tray
# Needs: xvfb dbus libglib2.0-bin haskell-status-notifier-item-utils xclip perl
set -euo pipefail
APP=$(readlink -f "$1")
# shellcheck source=../../scripts/lib/headless.sh
source "$(dirname "$(readlink -f "$0")")/../../scripts/lib/headless.sh"
headless_enter "$0" "$APP"

# shellcheck source=checks.sh
source "$(dirname "$(readlink -f "$0")")/checks.sh" e2e
now_ms() { date +%s%3N; }
headless_setup
start_xvfb
start_sni_watcher

# wait_label LABEL DEPTH: polls the layout until LABEL shows at DEPTH.
wait_label() {
  for _ in $(seq 150); do
    L=$(menu_layout)
    [[ -n $(menu_item_id "$L" "$1" "$2") ]] && return 0
    sleep 0.05
  done
  echo "layout: $L" >&2
  fail "'$1' never appeared at depth $2"
}
# wait_no_label LABEL DEPTH: polls the layout until LABEL is gone from DEPTH.
wait_no_label() {
  for _ in $(seq 150); do
    L=$(menu_layout)
    [[ -z $(menu_item_id "$L" "$1" "$2") ]] && return 0
    sleep 0.05
  done
  echo "layout: $L" >&2
  fail "'$1' is still shown at depth $2"
}
# menu_item_prefix LAYOUT PREFIX DEPTH: the id of the first item at DEPTH
# whose label starts with PREFIX.
menu_item_prefix() {
  perl -e '($s,$want,$wd)=@ARGV; $d=0;
    while ($s =~ /(\[)|(\])|\((\d+), \{[^{}]*?'\''label'\'': <'\''((?:[^'\''\\]|\\.)*)'\''>/g) {
      if (defined $1) { $d++ } elsif (defined $2) { $d-- }
      elsif (index($4, $want) == 0 && $d == $wd) { print "$3\n"; exit }
    }' "$1" "$2" "$3"
}
# disabled ID: true when the item is greyed out (dbusmenu leaves out
# "enabled" when it is the default, true).
disabled() { [[ $("${M[@]}" -m com.canonical.dbusmenu.GetLayout -- "$1" 0 '["enabled"]') == *"'enabled': <false>"* ]]; }
toggle_state() { "${M[@]}" -m com.canonical.dbusmenu.GetProperty -- "$1" toggle-state | grep -oE '[0-9]+' | head -1; }
# wait_file_state PATH present|absent
wait_file() {
  for _ in $(seq 100); do
    if [[ $2 == present && -e $1 ]] || [[ $2 == absent && ! -e $1 ]]; then return 0; fi
    sleep 0.05
  done
  fail "$1 is not $2"
}
# wait_clipboard GLOB: polls the clipboard until it matches; sets CLIP.
wait_clipboard() {
  CLIP=
  for _ in $(seq 100); do
    CLIP=$(xclip -o -selection clipboard 2>/dev/null || true)
    # shellcheck disable=SC2053
    [[ $CLIP == $1 ]] && return 0
    sleep 0.05
  done
}
notify_count() { grep -c 'member=Notify' "$TMP/notify.log" || true; }
publish() { # publish DIR ID JSON: atomically, as Osaurus does
  mkdir -p "$1/$2"
  printf '%s' "$3" >"$1/$2/.configuration.json.tmp"
  mv "$1/$2/.configuration.json.tmp" "$1/$2/configuration.json"
}

# ---- 1. The demo: two fake servers, one claiming LAN exposure ---------------
T0=$(now_ms)
start_app app-demo.log demo
echo "tray ready after $(($(now_ms) - T0)) ms (start to registered item)"
RT=$(sed -n 's/^osaurus-tray demo: runtime folder //p' "$TMP/app-demo.log" | head -1)
[[ -d $RT ]] || fail "the demo's runtime folder is not there: '$RT'"
PORTS=($(sed -n 's|.*servers on http://127.0.0.1:\([0-9]*\) and http://127.0.0.1:\([0-9]*\).*|\1 \2|p' "$TMP/app-demo.log"))
[[ ${#PORTS[@]} == 2 ]] || fail "the demo did not name its ports"

wait_label "Osaurus: 2 servers running" 1
wait_label "http://127.0.0.1:${PORTS[0]}" 1
wait_label "http://127.0.0.1:${PORTS[1]}  [LAN]" 1
wait_label "⚠ Exposed to the local network: http://127.0.0.1:${PORTS[1]}" 1
wait_label "Copy export OPENAI__BASE__URL=…" 2
wait_label "Responding" 2
ok "rows for a running and an exposed instance"

# The demo's folder is laid out like ~/.osaurus: its settings are beside runtime/.
DATA=$(dirname "$RT")
INTERNET="⚠ Internet: Researcher at https://0x5aaeb6…eaed.agent.osaurus.ai"
CORS="⚠ Any website you open can use this server"
wait_label "$INTERNET" 1
wait_label "$CORS" 1
L=$(menu_layout)
menu_click "$(menu_item_id "$L" "$INTERNET" 1)"
wait_clipboard 'https://0x*'
[[ $CLIP == "https://0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed.agent.osaurus.ai" ]] ||
  fail "the Internet row copied '$CLIP'"
ok "a relay tunnel and CORS open to any website show; the tunnel's row copies its public URL"

mv "$DATA/config/relay.json" "$DATA/relay.json.off"
wait_no_label "$INTERNET" 1
cp "$DATA/config/server.json" "$DATA/server.json.star"
printf '{\n  "allowedOrigins" : [\n    "https:\\/\\/chat.example"\n  ]\n}' >"$DATA/config/.server.tmp"
mv "$DATA/config/.server.tmp" "$DATA/config/server.json"
wait_no_label "$CORS" 1
mv "$DATA/relay.json.off" "$DATA/config/relay.json"
mv "$DATA/server.json.star" "$DATA/config/server.json"
wait_label "$INTERNET" 1
wait_label "$CORS" 1
ok "the relay and CORS rows disappear and come back as their files change"

wait_label "qwen2.5-7b-instruct-4bit" 3
wait_label "Models need an access key (the server answered 401)" 3
L=$(menu_layout)
menu_click "$(menu_item_id "$L" "qwen2.5-7b-instruct-4bit" 3)"
wait_clipboard 'qwen*'
[[ $CLIP == "qwen2.5-7b-instruct-4bit" ]] || fail "clicking a model copied '$CLIP'"
ok "models are listed, copied on click; the exposed one needs a key"

publish "$RT" "E2E00000-0000-4000-8000-000000000001" \
  '{"instanceId":"E2E00000-0000-4000-8000-000000000001","health":"running","port":9,"address":"127.0.0.1","url":"http:\/\/127.0.0.1:9","exposeToNetwork":false,"updatedAt":"2025-09-08T12:35:12Z"}'
wait_label "Osaurus: 2 servers running, 1 not responding" 1
wait_label "http://127.0.0.1:9  (not responding)" 1
wait_label "Not responding: nothing listens on port 9" 2
ok "an added instance appears, marked not responding"

L=$(menu_layout)
ID=$(menu_item_id "$L" "Copy URL" 1)
[[ -n $ID ]] || fail "no top-level Copy URL"
menu_click "$ID"
wait_clipboard 'http*'
[[ $CLIP == "http://127.0.0.1:${PORTS[0]}" || $CLIP == "http://127.0.0.1:${PORTS[1]}" ]] ||
  fail "clipboard holds '$CLIP'"
ok "Copy URL put '$CLIP' on the clipboard"

# The fix, one click away: the demo's fake Osaurus obeys Osaurus's control
# messages; each change is confirmed from the runtime folder.
dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" >"$TMP/notify-demo.log" 2>&1 &
PIDS+=($!)
sleep 0.3
L=$(menu_layout)
[[ -n $(menu_item_prefix "$L" "Make Local Only" 2) ]] || fail "no Make Local Only in the exposed instance's submenu"
[[ -n $(menu_item_id "$L" "Open Osaurus" 1) ]] || fail "no Open Osaurus at the top level"
# The warning row itself is enabled and leads to the fix.
ID=$(menu_item_id "$L" "⚠ Exposed to the local network: http://127.0.0.1:${PORTS[1]}" 1)
[[ -n $ID ]] || fail "no LAN warning row"
disabled "$ID" && fail "the LAN warning row is greyed out"
disabled "$(menu_item_prefix "$L" "Osaurus: 2 servers running" 1)" || fail "the header is not greyed out"
T2=$(now_ms)
menu_click "$ID"
wait_no_label "⚠ Exposed to the local network: http://127.0.0.1:${PORTS[1]}" 1
wait_no_label "http://127.0.0.1:${PORTS[1]}  [LAN]" 1
wait_label "http://127.0.0.1:${PORTS[1]}" 1
DT=$(($(now_ms) - T2))
((DT < 5000)) || fail "Make Local Only took $DT ms to show"
for _ in $(seq 60); do grep -q 'local only now' "$TMP/notify-demo.log" && break; sleep 0.05; done
grep -q 'local only now' "$TMP/notify-demo.log" || fail "no notification confirmed Make Local Only"
ok "the LAN warning is enabled; a click makes the instance local only: its warning and [LAN] gone in $DT ms, confirmed"

L=$(menu_layout)
menu_click "$(menu_item_id "$L" "Open Osaurus" 1)"
for _ in $(seq 60); do grep -q 'Osaurus would show its window now' "$TMP/app-demo.log" && break; sleep 0.05; done
grep -q 'Osaurus would show its window now' "$TMP/app-demo.log" || fail "Open Osaurus did not reach the demo's Osaurus"
ID=$(menu_item_prefix "$L" "Stop Server" 2)
[[ -n $ID ]] || fail "no Stop Server"
menu_click "$ID"
wait_no_label "http://127.0.0.1:${PORTS[0]}" 1
wait_no_label "http://127.0.0.1:${PORTS[1]}" 1
ok "Open Osaurus reaches Osaurus; Stop Server removes the instance rows (the message reaches every Osaurus)"

ICON_DIR=$XDG_RUNTIME_DIR/tray-icon
L=$(menu_layout)
ID=$(menu_item_id "$L" "Quit Osaurus Tray" 1)
T1=$(now_ms)
menu_click "$ID"
for _ in $(seq 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$APP_PID" 2>/dev/null && fail "still running 5 s after Quit"
RC=0
wait "$APP_PID" || RC=$?
[[ $RC == 0 ]] || fail "exit status $RC after Quit"
[[ ! -e $RT ]] || fail "the demo left its runtime folder $RT behind"
[[ -z $(ls -A "$ICON_DIR" 2>/dev/null) ]] || fail "icon files left behind: $(ls "$ICON_DIR")"
ok "Quit exits 0 within $(($(now_ms) - T1)) ms and leaves nothing behind"

# ---- 2. The plain tray: notifications, settings, login item, one at a time -
dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" >"$TMP/notify.log" 2>&1 &
PIDS+=($!)
RT2=$TMP/runtime
fake_osaurus() { # fake_osaurus PORT: answers as Osaurus does on 127.0.0.1:PORT, until killed
  python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/health":
            self.answer(200, b"{\"status\":\"healthy\",\"timestamp\":\"2026-01-01T00:00:00Z\"}")
        else:
            self.answer(401, b"{\"error\":{\"message\":\"key\",\"type\":\"authentication_error\"}}")
    def do_OPTIONS(self):
        self.answer(204)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$1" &
  PIDS+=($!)
  for _ in $(seq 100); do (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
}
exposed() { # exposed ID PORT: its server started first, the file written after (as Osaurus does)
  printf '{"instanceId":"%s","health":"running","port":%s,"address":"192.168.1.23","url":"http:\\/\\/192.168.1.23:%s","exposeToNetwork":true,"updatedAt":"%s"}' "$1" "$2" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
for port in 7001 7002 7003; do fake_osaurus "$port"; done
publish "$RT2" "A0000000-0000-4000-8000-00000000000A" "$(exposed A0000000-0000-4000-8000-00000000000A 7001)"
# A demo's socket beside the runtime folder that takes every control
# message and changes nothing: Osaurus too old to listen, or stuck.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.close()' "$TMP/osaurus-tray-demo.sock" &
PIDS+=($!)
for _ in $(seq 100); do [[ -S $TMP/osaurus-tray-demo.sock ]] && break; sleep 0.05; done
[[ -S $TMP/osaurus-tray-demo.sock ]] || fail "the deaf demo socket was not made"
mkdir -p "$XDG_CONFIG_HOME/osaurus-tray"
echo '{ this is not json' >"$XDG_CONFIG_HOME/osaurus-tray/settings.json"
sleep 0.3
start_app app-tray.log --runtime-dir "$RT2"
wait_label "Osaurus: 1 server running" 1
L=$(menu_layout)
[[ $L == *"⚠ Settings were unreadable"* ]] || fail "no notice about the corrupt settings"
[[ ! -e $XDG_CONFIG_HOME/osaurus-tray/settings.json ]] || fail "corrupt settings not moved aside"
[[ $(cat "$XDG_CONFIG_HOME"/osaurus-tray/settings.json.corrupt-*) == "{ this is not json" ]] ||
  fail "the corrupt settings were not kept intact"
ok "corrupt settings are moved aside, kept, and the user is told"

sleep 0.5
[[ $(notify_count) == 0 ]] || fail "a notification for the state found at start-up"
publish "$RT2" "B0000000-0000-4000-8000-00000000000B" "$(exposed B0000000-0000-4000-8000-00000000000B 7002)"
wait_label "Osaurus: 2 servers running" 1
for _ in $(seq 60); do [[ $(notify_count) -ge 1 ]] && break; sleep 0.05; done
[[ $(notify_count) == 1 ]] || fail "expected one Notify call, saw $(notify_count)"
grep -q 'exposed to the local network' "$TMP/notify.log" || fail "the notification does not say what happened"
ok "one notification when an instance becomes exposed, none at start-up"

L=$(menu_layout)
menu_click "$(menu_item_id "$L" "Copy URL" 1)"
wait_clipboard 'http*'
for _ in $(seq 60); do [[ $(notify_count) -ge 2 ]] && break; sleep 0.05; done
[[ $(notify_count) == 2 ]] || fail "expected a Notify call for the copy, saw $(notify_count) in all"
if ! grep -qF "string \"$CLIP\"" "$TMP/notify.log" || ! grep -q 'string "Copied"' "$TMP/notify.log"; then
  fail "the copy's notification does not say 'Copied $CLIP': $(grep string "$TMP/notify.log")"
fi
ok "a copy is confirmed: 'Copied $CLIP'"

OUT=$("$APP" tray 2>&1) && fail "a second tray started: $OUT"
[[ $OUT == *"already running"* ]] || fail "the second tray did not say why it stopped: $OUT"
"$APP" --runtime-dir "$RT2" list --no-probe >/dev/null || fail "list was blocked by the running tray"
ok "a second tray exits at once; commands still run"

AUTOSTART=$XDG_CONFIG_HOME/autostart/osaurus-tray.desktop
L=$(menu_layout)
ID=$(menu_item_id "$L" "Launch at Login" 1)
[[ -n $ID && $(toggle_state "$ID") == 0 ]] || fail "Launch at Login is not an unchecked item"
menu_click "$ID"
wait_file "$AUTOSTART" present
grep -qE "^Exec=\"?$APP-app\"?\$" "$AUTOSTART" || fail "the autostart entry does not start the app: $(grep Exec "$AUTOSTART")"
for _ in $(seq 40); do [[ $(toggle_state "$ID") == 1 ]] && break; sleep 0.05; done
[[ $(toggle_state "$ID") == 1 ]] || fail "Launch at Login is not checked after enabling"
menu_click "$ID"
wait_file "$AUTOSTART" absent
for _ in $(seq 40); do [[ $(toggle_state "$ID") == 0 ]] && break; sleep 0.05; done
[[ $(toggle_state "$ID") == 0 ]] || fail "Launch at Login is still checked after disabling"
ok "Launch at Login writes and removes the XDG autostart entry, and shows it"

L=$(menu_layout)
ID=$(menu_item_id "$L" "Notifications" 2)
menu_click "$ID"
SETTINGS=$XDG_CONFIG_HOME/osaurus-tray/settings.json
wait_file "$SETTINGS" present
for _ in $(seq 40); do grep -q '"notifications": false' "$SETTINGS" && break; sleep 0.05; done
grep -q '"notifications": false' "$SETTINGS" || fail "turning notifications off was not saved: $(cat "$SETTINGS")"
publish "$RT2" "C0000000-0000-4000-8000-00000000000C" "$(exposed C0000000-0000-4000-8000-00000000000C 7003)"
wait_label "Osaurus: 3 servers running" 1
L=$(menu_layout)
menu_click "$(menu_item_id "$L" "Copy URL" 1)"
sleep 0.3
[[ $(notify_count) == 2 ]] || fail "a notification while notifications are off"
ok "the Notifications switch is saved and silences notifications, a copy's too"

L=$(menu_layout)
ID=$(menu_item_prefix "$L" "Make Local Only" 2)
[[ -n $ID ]] || fail "no Make Local Only beside a demo's socket"
T3=$(now_ms)
menu_click "$ID"
NOTICE="did not change within 15 s; use Open Osaurus"
for _ in $(seq 200); do
  L=$(menu_layout)
  [[ $L == *"$NOTICE"* ]] && break
  sleep 0.1
done
DT=$(($(now_ms) - T3))
[[ $L == *"$NOTICE"* ]] || fail "no notice when nothing changed"
((DT >= 14500)) || fail "the notice came after $DT ms, before 15 s"
[[ -n $(menu_item_id "$L" "Open Osaurus" 1) ]] || fail "no Open Osaurus offered"
ok "when nothing changes, the menu says so after $DT ms and offers Open Osaurus"

kill -TERM "$APP_PID"
for _ in $(seq 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.05; done
RC=0
wait "$APP_PID" || RC=$?
[[ $RC == 0 ]] || fail "exit status $RC after SIGTERM"
[[ -z $(ls -A "$XDG_RUNTIME_DIR/tray-icon" 2>/dev/null) ]] || fail "icon files left behind after SIGTERM"
ok "SIGTERM exits 0 and leaves nothing behind"

# ---- 3. A restart is not a stop ---------------------------------------------
RT3=$TMP/runtime3
mkdir -p "$RT3"
printf '{"notifications": true}' >"$SETTINGS"
stopped_count() { grep -c 'string "Osaurus stopped"' "$TMP/notify.log" || true; }
BEFORE=$(stopped_count)
python3 "$(dirname "$(readlink -f "$0")")/../../scripts/fake-osaurus.py" --runtime-dir "$RT3" >"$TMP/fake3.out" 2>&1 &
FAKE_PID=$!
PIDS+=($FAKE_PID)
for _ in $(seq 100); do [[ -s $TMP/fake3.out ]] && break; sleep 0.05; done
start_app app-restart.log --runtime-dir "$RT3"
wait_label "Osaurus: 1 server running" 1
# What Osaurus does when exposure is toggled: restarting, the port closed,
# starting, then running again on the same port.
kill -USR1 "$FAKE_PID"
wait_no_label "Osaurus: 1 server running" 1
wait_label "Osaurus: 1 server running" 1
sleep 6
[[ $(stopped_count) == "$BEFORE" ]] || fail "a restart was told as a stop"
ok "a restart (restarting, starting, running) sends no 'Osaurus stopped'"
T4=$(now_ms)
kill -TERM "$FAKE_PID" # a stop: Osaurus removes its folder
wait_label "Osaurus is not running" 1
for _ in $(seq 200); do (($(stopped_count) > BEFORE)) && break; sleep 0.05; done
DT=$(($(now_ms) - T4))
(($(stopped_count) == BEFORE + 1)) || fail "no 'Osaurus stopped' after a stop ($(stopped_count), was $BEFORE)"
((DT >= 4500)) || fail "'Osaurus stopped' came after $DT ms, before the 5 s a restart may take"
ok "a stop is told once, after no server came back for 5 s ($DT ms)"
kill -TERM "$APP_PID"
wait "$APP_PID" || true

# ---- 4. No Osaurus to tell (Linux): the warning does what the submenu does first
RT4=$TMP/plain/runtime
mkdir -p "$RT4"
python3 "$(dirname "$(readlink -f "$0")")/../../scripts/fake-osaurus.py" --runtime-dir "$RT4" --expose --key e2e \
  >"$TMP/fake4.out" 2>&1 &
FAKE_PID=$!
PIDS+=($FAKE_PID)
for _ in $(seq 100); do [[ -s $TMP/fake4.out ]] && break; sleep 0.05; done
PORT4=$(head -1 "$TMP/fake4.out")
URL4=$(sed -n 's|.*"url" : "\(.*\)".*|\1|p' "$RT4"/*/configuration.json | sed 's|\\/|/|g')
[[ $URL4 == http://*:$PORT4 ]] || fail "the exposed fake's file names no URL: '$URL4'"
start_app app-plain.log --runtime-dir "$RT4"
wait_label "$URL4  [LAN]" 1
L=$(menu_layout)
ID=$(menu_item_prefix "$L" "⚠ Exposed to the local network: $URL4" 1)
[[ -n $ID ]] || fail "no LAN warning naming $URL4 as its row does"
disabled "$ID" && fail "the LAN warning is greyed out where there is no Osaurus to tell"
BEFORE=$(notify_count)
menu_click "$ID"
wait_clipboard "$URL4"
[[ $CLIP == "$URL4" ]] || fail "the LAN warning copied '$CLIP', not its server's URL $URL4"
for _ in $(seq 60); do (($(notify_count) > BEFORE)) && break; sleep 0.05; done
(($(notify_count) == BEFORE + 1)) || fail "no 'Copied' notification after the warning's copy"
ok "with no Osaurus to tell, the LAN warning is enabled and copies its server's URL, confirmed"
if [[ $URL4 == http://127.* ]]; then
  echo "skip: this machine has no LAN address, so no Copy LAN URL to check"
  PASSED=$((PASSED + 1))
else
  menu_click "$(menu_item_id "$L" "Copy Local URL (127.0.0.1)" 2)"
  wait_clipboard "http://127.0.0.1:$PORT4"
  [[ $CLIP == "http://127.0.0.1:$PORT4" ]] || fail "Copy Local URL copied '$CLIP'"
  menu_click "$(menu_item_id "$L" "Copy LAN URL" 2)"
  wait_clipboard "$URL4"
  [[ $CLIP == "$URL4" ]] || fail "Copy LAN URL copied '$CLIP', not this machine's LAN URL $URL4"
  ok "Copy LAN URL copies this machine's LAN address and the port ($CLIP); Copy Local URL 127.0.0.1"
fi
kill -TERM "$APP_PID" "$FAKE_PID"
wait "$APP_PID" || true

checks_done
