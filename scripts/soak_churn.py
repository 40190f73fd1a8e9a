#!/usr/bin/env python3
"""Churn generator for scripts/soak.sh: changes Osaurus instance folders the
way Osaurus does, about RATE times a second for SECONDS, in every runtime
folder given (each gets exactly the same change at the same moment).

Usage: soak_churn.py SECONDS RUNTIME_DIR [RUNTIME_DIR...]
Environment: SOAK_SEED (default 20250908), SOAK_RATE (changes/s, default 20),
SOAK_IDS (instance ids, default 8), SOAK_EXPECTED (where to write the final
state as JSON; default: not written).

A change is one of: start (health "starting"), run (port, 127.0.0.1, url,
exposeToNetwork false), port (new port, same exposure), expose / unexpose
(address 192.168.x.y and exposeToNetwork true, or back to 127.0.0.1), stop
(the instance folder removed). Files are written as Foundation's
JSONSerialization writes them (pretty, sorted keys, `"key" : value`, `\\/`),
to a dot-named temp file inside the instance folder, then renamed over
configuration.json. Only the random choices are seeded; updatedAt is the
wall clock. Nothing listens on the ports (40000-49999).
"""

import collections
import datetime
import json
import os
import random
import shutil
import signal
import sys
import time


def foundation_json(obj):
    text = json.dumps(obj, indent=2, sort_keys=True, separators=(",", " : "), ensure_ascii=False)
    return text.replace("/", "\\/")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Instance:
    def __init__(self, iid):
        self.id = iid
        self.state = "absent"  # absent | starting | running
        self.port = None
        self.address = "127.0.0.1"
        self.exposed = False

    def config(self):
        c = {"instanceId": self.id, "updatedAt": now_rfc3339(), "health": self.state}
        if self.state == "running":
            c.update(
                port=self.port,
                address=self.address,
                url="http://%s:%d" % (self.address, self.port),
                exposeToNetwork=self.exposed,
            )
        return c


def publish(bases, inst):
    data = foundation_json(inst.config()).encode()
    for base in bases:
        d = os.path.join(base, inst.id)
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, ".configuration.json.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(d, "configuration.json"))


def remove(bases, inst):
    for base in bases:
        shutil.rmtree(os.path.join(base, inst.id), ignore_errors=True)


def step(rng, bases, inst):
    """Makes one change to `inst`; returns its kind."""
    r = rng.random()
    if inst.state == "absent":
        inst.state, inst.port, inst.address, inst.exposed = "starting", None, "127.0.0.1", False
        kind = "start"
    elif inst.state == "starting":
        if r < 0.85:
            inst.state, inst.port = "running", rng.randrange(40000, 50000)
            kind = "run"
        else:
            inst.state = "absent"
            kind = "stop"
    elif r < 0.40:
        old = inst.port
        while inst.port == old:
            inst.port = rng.randrange(40000, 50000)
        kind = "port"
    elif r < 0.75:
        inst.exposed = not inst.exposed
        inst.address = "192.168.%d.%d" % (rng.randrange(0, 256), rng.randrange(1, 255)) if inst.exposed else "127.0.0.1"
        kind = "expose" if inst.exposed else "unexpose"
    else:
        inst.state = "absent"
        kind = "stop"
    if inst.state == "absent":
        remove(bases, inst)
    else:
        publish(bases, inst)
    return kind


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    seconds = float(sys.argv[1])
    bases = sys.argv[2:]
    rate = float(os.environ.get("SOAK_RATE", "20"))
    seed = int(os.environ.get("SOAK_SEED", "20250908"))
    n_ids = int(os.environ.get("SOAK_IDS", "8"))
    rng = random.Random(seed)
    ids = ["50A4%04X-0000-4000-8000-%012X" % (i, i) for i in range(n_ids)]
    insts = [Instance(i) for i in ids]
    for base in bases:
        os.makedirs(base, exist_ok=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    kinds = collections.Counter()
    period = 1.0 / rate
    t0 = time.monotonic()
    late = 0.0
    n = 0
    while not stop:
        due = t0 + n * period
        if due - t0 >= seconds:
            break
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        else:
            late = max(late, -wait)
        kinds[step(rng, bases, rng.choice(insts))] += 1
        n += 1
    elapsed = time.monotonic() - t0

    final = [
        {"instanceId": i.id, "state": i.state, "port": i.port, "address": i.address, "exposeToNetwork": i.exposed}
        for i in insts
        if i.state != "absent"
    ]
    if os.environ.get("SOAK_EXPECTED"):
        with open(os.environ["SOAK_EXPECTED"], "w") as f:
            json.dump(final, f, indent=1)
    running = sum(1 for i in final if i["state"] == "running")
    print(
        "churn: %d changes in %.1f s (%.1f/s, seed %d, %d ids, at most %.0f ms late): %s; final: %d running, %d starting"
        % (
            n,
            elapsed,
            n / elapsed if elapsed else 0,
            seed,
            n_ids,
            late * 1000,
            ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
            running,
            len(final) - running,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
