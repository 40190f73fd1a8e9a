#!/usr/bin/env bash
# Runs an assembled "Osaurus Tray.app" the way a user meets it:
#
#   1. `osaurus-tray list --json` from Contents/MacOS against a runtime folder
#      made here, holding one running instance whose port answers /health on
#      127.0.0.1: it must be listed, running and reachable;
#   2. `osaurus-tray-app` (the bundle's executable) against the same folder
#      for SECONDS (default 10): it must still be running then, and must have
#      written none of its own errors (lines starting `osaurus-tray:`) and no
#      panic on stderr. Other lines there are the system's (AppKit logs
#      some on a CI runner): they are shown, not judged.
#
# Written for macOS's bash 3.2 too: no empty array is expanded under `set -u`.
#
# Usage: scripts/smoke-app.sh APP [SECONDS]
# The macOS workflow runs it on the bundle; on Linux it runs under a display
# (e.g. xvfb-run) on the folder scripts/bundle-macos.sh assembles there.
set -euo pipefail

die() {
  echo "smoke-app: $*" >&2
  exit 1
}

[[ $# -ge 1 && $# -le 2 ]] || die "usage: scripts/smoke-app.sh APP [SECONDS]"
APP=$1
SECONDS_ALIVE=${2:-10}
CLI=$APP/Contents/MacOS/osaurus-tray
GUI=$APP/Contents/MacOS/osaurus-tray-app
[[ -x $CLI ]] || die "no command line at $CLI"
[[ -x $GUI ]] || die "no app at $GUI"

WORK=$(mktemp -d)
pids=()
cleanup() {
  # bash 3.2 calls "${pids[@]}" of an empty array unbound under set -u.
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# A /health endpoint on 127.0.0.1, on a port the system picks.
python3 -c '
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/health"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{\"status\":\"healthy\"}" if ok else b"{}")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Health)
open(sys.argv[1] + ".tmp", "w").write(str(server.server_port))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
' "$WORK/port" &
pids+=($!)
for _ in $(seq 50); do
  [[ -s $WORK/port ]] && break
  sleep 0.1
done
[[ -s $WORK/port ]] || die "the health server did not start"
PORT=$(cat "$WORK/port")

# One running instance, written as Osaurus does: a temporary file, then a rename.
RUNTIME=$WORK/runtime
ID=smoke-$$
mkdir -p "$RUNTIME/$ID"
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '{"instanceId":"%s","updatedAt":"%s","port":%s,"address":"127.0.0.1","url":"http://127.0.0.1:%s","exposeToNetwork":false,"health":"running"}' \
  "$ID" "$NOW" "$PORT" "$PORT" >"$RUNTIME/$ID/.configuration.tmp"
mv "$RUNTIME/$ID/.configuration.tmp" "$RUNTIME/$ID/configuration.json"

"$CLI" --runtime-dir "$RUNTIME" list --json >"$WORK/list.json" || die "list --json failed"
python3 - "$WORK/list.json" "$ID" "$PORT" <<'EOF' || die "list --json: $(cat "$WORK/list.json")"
import json, sys
listed = json.load(open(sys.argv[1]))
want = {"instanceId": sys.argv[2], "state": "running", "port": int(sys.argv[3]), "reachable": True}
assert len(listed) == 1, f"{len(listed)} instances listed"
got = {k: listed[0].get(k) for k in want}
assert got == want, f"listed {got}, expected {want}"
EOF
echo "smoke-app: list --json shows the instance, running and reachable" >&2

OSAURUS_RUNTIME_DIR=$RUNTIME "$GUI" >"$WORK/app.out" 2>"$WORK/app.err" &
app=$!
pids+=("$app")
sleep "$SECONDS_ALIVE"
kill -0 "$app" 2>/dev/null || {
  wait "$app" && status=0 || status=$?
  die "the app exited within ${SECONDS_ALIVE} s (status $status); stderr: $(cat "$WORK/app.err")"
}
if grep -Eq '^osaurus-tray:|panicked at' "$WORK/app.err"; then
  die "the app reported an error: $(cat "$WORK/app.err")"
fi
if [[ -s $WORK/app.err ]]; then
  echo "smoke-app: the system logged, not judged:" >&2
  sed 's/^/  | /' "$WORK/app.err" >&2
fi
echo "smoke-app: the app ran ${SECONDS_ALIVE} s with no error of its own" >&2
