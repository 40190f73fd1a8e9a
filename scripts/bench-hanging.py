#!/usr/bin/env python3
"""Times `list`, `url` and `env` over many running entries whose ports accept
connections but never answer (a listening socket that is never accepted):
the worst case for a probe round, which must stay near its 1 s deadline
however many entries there are.

Usage: scripts/bench-hanging.py [BINARY] [ENTRIES] [RUNS]
       (default: target/debug/osaurus-tray, 1000 entries, 3 runs)
"""
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/osaurus-tray")
ENTRIES = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 3

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, ENTRIES + 256)), hard))

listeners = []
with tempfile.TemporaryDirectory() as rt:
    for n in range(ENTRIES):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)  # never accepted: the kernel completes the handshake, nobody answers
        listeners.append(s)
        port = s.getsockname()[1]
        d = os.path.join(rt, "H%05d" % n)
        os.mkdir(d)
        cfg = {"health": "running", "port": port, "address": "127.0.0.1",
               "updatedAt": "2025-01-01T00:00:00Z", "instanceId": "H%05d" % n}
        with open(os.path.join(d, "configuration.json"), "w") as f:
            json.dump(cfg, f)
    for cmd in (["list"], ["url"], ["env"], ["list", "--no-probe"]):
        times = []
        for _ in range(RUNS):
            t0 = time.monotonic()
            p = subprocess.run([BIN, "--runtime-dir", rt] + cmd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            times.append(time.monotonic() - t0)
        print("%-5s %d hanging entries: median %.2f s (runs: %s; exit %d)" % (
            cmd[0], ENTRIES, statistics.median(times), ", ".join("%.2f" % t for t in times), p.returncode))
