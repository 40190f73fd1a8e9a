#!/usr/bin/env python3
"""Times how soon `watch --json` tells that a crashed Osaurus is gone: from
the SIGKILL of a healthy server (scripts/fake-osaurus.py, a process of its
own with its discovery file, which a crash leaves behind) to the first
`watch --json` line that calls that instance not alive: `"alive": false`
where the line has that key, else `"reachable": false`.

Each kill comes at a random moment (0 to SETTLE seconds after `watch`
first calls the server alive), so that it does not fall at the same point of
a probe cycle every time. Between kills the leftover folder is removed and
`watch` is seen to drop it. Reports p50 and max over the kills.

Usage: scripts/bench-crash.py [BINARY] [KILLS]
       (default: target/release/osaurus-tray, 20 kills)
Env:   SETTLE=10 (seconds; the longest wait before a kill)
       ARGS="--probe-interval 5" (extra arguments for watch)
"""
import json
import os
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/osaurus-tray")
KILLS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
SETTLE = float(os.environ.get("SETTLE", "10"))
EXTRA = shlex.split(os.environ.get("ARGS", ""))
WAIT = 60.0  # the longest wait for any one thing watch should say


class Watch:
    """`watch --json`, each line kept with the monotonic time it was read."""

    def __init__(self, runtime):
        env = dict(os.environ, HOME=os.path.join(runtime, "..", "home"))
        env.pop("OSAURUS_API_KEY", None)
        env.pop("OSAURUS_RUNTIME_DIR", None)
        self.proc = subprocess.Popen([BIN, "watch", "--json", "--runtime-dir", runtime] + EXTRA,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for raw in self.proc.stdout:
            t = time.monotonic()
            try:
                doc = json.loads(raw)
            except ValueError:
                continue
            with self.cond:
                self.lines.append((t, doc))
                self.cond.notify_all()
        with self.cond:
            self.lines.append((time.monotonic(), None))  # watch ended
            self.cond.notify_all()

    def wait_for(self, since, test, what):
        """The time of the first line from index `since` on for which
        test(line) is true; exits when none comes within WAIT seconds."""
        deadline = time.monotonic() + WAIT
        i = since
        with self.cond:
            while True:
                while i < len(self.lines):
                    t, doc = self.lines[i]
                    if doc is None:
                        sys.exit("bench-crash: watch ended while waiting for " + what)
                    if test(doc):
                        return t
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    sys.exit("bench-crash: watch did not say %s within %d s" % (what, WAIT))
                self.cond.wait(left)

    def count(self):
        with self.cond:
            return len(self.lines)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def entry(doc, iid):
    return next((i for i in doc.get("instances", []) if i.get("instanceId") == iid), None)


def alive(i):
    """True or False as the line says; None when it says neither."""
    if i is None:
        return None
    for key in ("alive", "reachable"):
        if isinstance(i.get(key), bool):
            return i[key]
    return None


def main():
    tmp = tempfile.mkdtemp(prefix="bench-crash-")
    runtime = os.path.join(tmp, "runtime")
    os.makedirs(runtime)
    os.makedirs(os.path.join(tmp, "home"))
    watch = Watch(runtime)
    fake = None
    lat = []
    try:
        for n in range(KILLS):
            iid = str(uuid.uuid4()).upper()
            mark = watch.count()
            fake = subprocess.Popen([sys.executable, os.path.join(HERE, "fake-osaurus.py"), "--runtime-dir",
                                     runtime, "--instance-id", iid], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if not fake.stdout.readline().strip():
                sys.exit("bench-crash: the fake server did not start")
            watch.wait_for(mark, lambda d: alive(entry(d, iid)) is True, "instance %d alive" % n)
            time.sleep(random.uniform(0, SETTLE))
            mark = watch.count()
            t0 = time.monotonic()
            os.kill(fake.pid, signal.SIGKILL)
            seen = watch.wait_for(mark, lambda d: alive(entry(d, iid)) is False, "instance %d not alive" % n)
            fake.wait()
            fake = None
            lat.append((seen - t0) * 1000)
            print("kill %2d: not alive after %.1f ms" % (n + 1, lat[-1]), flush=True)
            mark = watch.count()
            shutil.rmtree(os.path.join(runtime, iid))
            watch.wait_for(mark, lambda d: entry(d, iid) is None, "instance %d gone" % n)
    finally:
        if fake is not None:
            fake.kill()
            fake.wait()
        watch.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    lat.sort()
    print("SIGKILL of a healthy server to the watch --json line saying it is not alive, %d kills: "
          "p50 %.1f ms, max %.1f ms (min %.1f ms, mean %.1f ms)"
          % (len(lat), statistics.median(lat), lat[-1], lat[0], statistics.mean(lat)))


if __name__ == "__main__":
    main()
