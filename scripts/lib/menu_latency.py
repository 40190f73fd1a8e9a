#!/usr/bin/env python3
"""Times how long a change to a configuration.json takes to reach the desktop:
from the rename that completes the file to the menu's D-Bus LayoutUpdated
signal (as dbus-monitor, started by scripts/bench-menu.sh, timestamps it).

Each change flips one instance between local and exposed, which changes its
row and adds or removes its warning row: a change of the menu's layout.
Usage: menu_latency.py INSTANCES CHANGES    (env: RUNTIME, MONITOR_LOG)
"""
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME = os.environ["RUNTIME"]
LOG = os.environ["MONITOR_LOG"]
SIGNAL = re.compile(r"^signal time=(\d+\.\d+) .*member=LayoutUpdated")


class Health(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b'{"status":"healthy","timestamp":"2026-11-25T12:00:00Z"}'
        if not self.path.endswith("/health"):
            body = b'{"object":"list","data":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


def serve():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd.server_address[1]


def write(folder, doc):
    text = json.dumps(doc, indent=2, sort_keys=True, separators=(",", " : ")).replace("/", "\\/")
    tmp = os.path.join(folder, ".dat.nosync1.bench")
    with open(tmp, "w") as f:
        f.write(text)
    t = time.time()
    os.rename(tmp, os.path.join(folder, "configuration.json"))
    return t


def doc(iid, port, minute, exposed):
    return {"instanceId": iid, "health": "running", "port": port, "address": "127.0.0.1",
            "url": f"http://127.0.0.1:{port}", "exposeToNetwork": exposed,
            "updatedAt": f"2026-11-15T10:{minute:02}:00Z"}


def signals():
    with open(LOG) as f:
        return [float(m.group(1)) for line in f if (m := SIGNAL.match(line))]


def wait_quiet(seconds=0.4):
    """Until no signal has come for `seconds`."""
    n = len(signals())
    while True:
        time.sleep(seconds)
        m = len(signals())
        if m == n:
            return
        n = m


def main():
    count, changes = int(sys.argv[1]), int(sys.argv[2])
    folders = []
    for k in range(count):
        iid = str(uuid.uuid4()).upper()
        folder = os.path.join(RUNTIME, iid)
        os.makedirs(folder)
        port = serve()
        write(folder, doc(iid, port, k % 60, False))
        folders.append((folder, iid, port, k % 60))
    wait_quiet(1.0)
    folder, iid, port, minute = folders[count // 2]
    lat = []
    for n in range(changes):
        before = len(signals())
        t = write(folder, doc(iid, port, minute, n % 2 == 0))
        deadline = time.time() + 5
        while len(signals()) == before and time.time() < deadline:
            time.sleep(0.0005)
        seen = signals()[before:]
        if not seen:
            sys.exit(f"menu_latency: no LayoutUpdated within 5 s of change {n}")
        lat.append((seen[0] - t) * 1000)
        wait_quiet(0.15)
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"{count} instance(s), {changes} changes: file change to LayoutUpdated p50 {pick(0.5):.1f} ms, "
          f"p99 {pick(0.99):.1f} ms, max {lat[-1]:.1f} ms")


if __name__ == "__main__":
    main()
