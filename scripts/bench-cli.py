#!/usr/bin/env python3
"""Measures what a script pays for the command line:

- `url --no-probe` and `--version`: median wall time over many runs, beside a
  trivial process (`true`), and the peak RSS of a run (GNU time's %M: a
  child of this Python process would count Python's pages before its exec);
- `watch --json --no-probe`, idle with two instances: CPU ticks over a window
  and RSS at its end;
- the stripped size of both executables, and the shared libraries each names.

Usage: scripts/bench-cli.py [DIR_WITH_RELEASE_BINARIES] [IDLE_SECS]
       (default: target/release, 30 s)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release")
IDLE = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
CLI = os.path.join(BIN, "osaurus-tray")
APP = os.path.join(BIN, "osaurus-tray-app")
RUNS = 300


def run_once(argv):
    """Wall seconds of one run."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                                       (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    os.wait4(pid, 0)
    return time.perf_counter() - t0


def peak_rss_mib(argv):
    """The largest peak RSS of 20 runs, by GNU time; None without it."""
    gnu_time = "/usr/bin/time"
    if not os.access(gnu_time, os.X_OK):
        return None
    peaks = []
    for _ in range(20):
        out = subprocess.run([gnu_time, "-f", "%M"] + argv, capture_output=True, text=True)
        peaks.append(int(out.stderr.strip().splitlines()[-1]))
    return max(peaks) / 1024


def timed(argv):
    for _ in range(20):
        run_once(argv)
    samples = [run_once(argv) for _ in range(RUNS)]
    return statistics.median(samples) * 1000, peak_rss_mib(argv)


def mib(value):
    return "n/a (needs GNU time)" if value is None else f"{value:.1f} MiB"


def write_instance(base, iid, port, minute):
    folder = os.path.join(base, iid)
    os.makedirs(folder)
    doc = {"address": "127.0.0.1", "exposeToNetwork": False, "health": "running", "instanceId": iid,
           "port": port, "updatedAt": f"2026-11-15T10:{minute:02}:00Z", "url": f"http://127.0.0.1:{port}"}
    with open(os.path.join(folder, "configuration.json"), "w") as f:
        f.write(json.dumps(doc, indent=2, sort_keys=True, separators=(",", " : ")).replace("/", "\\/"))


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def needed(exe):
    out = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True).stdout
    return [line.split("[")[1].split("]")[0] for line in out.splitlines() if "(NEEDED)" in line]


def main():
    rt = tempfile.mkdtemp()
    try:
        write_instance(rt, "A0000000-0000-4000-8000-00000000000A", 41001, 1)
        write_instance(rt, "B0000000-0000-4000-8000-00000000000B", 41002, 2)
        true = shutil.which("true")
        base_ms, base_kb = timed([true])
        print(f"trivial process (true): {base_ms:.2f} ms, peak RSS {mib(base_kb)}")
        for args in (["--version"], ["--runtime-dir", rt, "url", "--no-probe"]):
            ms, mb = timed([CLI] + args)
            print(f"osaurus-tray {' '.join(a if a != rt else 'DIR' for a in args)}: {ms:.2f} ms "
                  f"({ms / base_ms:.1f}x true), peak RSS {mib(mb)}")

        watch = subprocess.Popen([CLI, "--runtime-dir", rt, "watch", "--json", "--no-probe"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        watch.stdout.readline()
        time.sleep(2)
        start = ticks(watch.pid)
        time.sleep(IDLE)
        print(f"watch --json --no-probe, idle {IDLE:.0f} s with 2 instances: {ticks(watch.pid) - start} CPU ticks, "
              f"RSS {rss_kib(watch.pid) / 1024:.1f} MiB")
        watch.terminate()
        watch.wait()
    finally:
        shutil.rmtree(rt)
    for exe in (CLI, APP):
        if not os.path.exists(exe):
            continue
        size = os.path.getsize(exe)
        libs = needed(exe)
        print(f"{os.path.basename(exe)}: {size} bytes ({size / 1048576:.2f} MiB), {len(libs)} shared libraries: "
              f"{' '.join(libs)}")


if __name__ == "__main__":
    main()
