#!/usr/bin/env python3
"""Times how soon the tray's menu tells that a crashed Osaurus is gone: from
the SIGKILL of a healthy server (scripts/fake-osaurus.py with its discovery
file) to the menu's D-Bus LayoutUpdated signal (as dbus-monitor, started by
scripts/bench-crash-menu.sh, timestamps it) after which the instance's row
no longer reads as it did while the server was alive (today its bare URL,
`http://127.0.0.1:PORT`, becomes `…  (not responding)`), or is gone.

After each signal the menu is read over D-Bus; when several signals come
before a read, the change is put at the last of them (an upper bound). A
kill comes at a random moment, 0 to SETTLE s after the row first reads alive.

Usage: crash_menu.py KILLS GDBUS_CALL...   (GDBUS_CALL: `gdbus call --session
       -d BUS -o MENU`, the menu's caller; env: RUNTIME, MONITOR_LOG, SETTLE)
"""
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.environ["RUNTIME"]
LOG = os.environ["MONITOR_LOG"]
SETTLE = float(os.environ.get("SETTLE", "10"))
SIGNAL = re.compile(r"^signal time=(\d+\.\d+) .*member=LayoutUpdated")
LABEL = re.compile(r"'label': <'((?:[^'\\]|\\.)*)'>")
WAIT = 60.0


def signals():
    with open(LOG) as f:
        return [float(m.group(1)) for line in f if (m := SIGNAL.match(line))]


def labels(call):
    out = subprocess.run(call + ["-m", "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "['label']"],
                         capture_output=True, text=True, timeout=10).stdout
    return LABEL.findall(out)


def row(call, url):
    """The label of the instance's row, None when there is none."""
    return next((l for l in labels(call) if l == url or l.startswith(url + " ")), None)


def reads_alive(label):
    return label is not None and not any(m in label for m in ("(not responding)", "(left over", "(not Osaurus)"))


def main():
    kills, call = int(sys.argv[1]), sys.argv[2:]
    lat = []
    fake = None
    try:
        for n in range(kills):
            iid = str(uuid.uuid4()).upper()
            fake = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "fake-osaurus.py"), "--runtime-dir",
                                     RUNTIME, "--instance-id", iid], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
            port = fake.stdout.readline().strip().decode()
            if not port:
                sys.exit("crash_menu: the fake server did not start")
            url = "http://127.0.0.1:" + port
            deadline = time.time() + WAIT
            while not reads_alive(row(call, url)):
                if time.time() > deadline:
                    sys.exit("crash_menu: the menu never showed %s alive (row: %r)" % (url, row(call, url)))
                time.sleep(0.05)
            time.sleep(1 + random.uniform(0, SETTLE))
            alive = row(call, url)
            if not reads_alive(alive):
                sys.exit("crash_menu: %s stopped reading alive before the kill: %r" % (url, alive))
            checked = len(signals())
            t0 = time.time()
            os.kill(fake.pid, signal.SIGKILL)
            fake.wait()
            fake = None
            seen = None
            while seen is None:
                if time.time() > t0 + WAIT:
                    sys.exit("crash_menu: the menu still shows %s alive %d s after the kill" % (url, WAIT))
                now = signals()
                if len(now) == checked:
                    time.sleep(0.0005)
                    continue
                if row(call, url) != alive:
                    seen = now[-1]
                checked = len(now)
            lat.append((seen - t0) * 1000)
            print("kill %2d: the menu changed %.1f ms after it" % (n + 1, lat[-1]), flush=True)
            shutil.rmtree(os.path.join(RUNTIME, iid))
            deadline = time.time() + WAIT
            while row(call, url) is not None:
                if time.time() > deadline:
                    sys.exit("crash_menu: the menu kept %s after its folder went" % url)
                time.sleep(0.05)
    finally:
        if fake is not None:
            fake.kill()
            fake.wait()
    lat.sort()
    print("SIGKILL of a healthy server to the menu's LayoutUpdated showing it not alive, %d kills: "
          "p50 %.1f ms, max %.1f ms (min %.1f ms)" % (len(lat), statistics.median(lat), lat[-1], lat[0]))


if __name__ == "__main__":
    main()
