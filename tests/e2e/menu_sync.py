#!/usr/bin/env python3
"""The menu the desktop reads equals the menu the app meant, after every change.

Drives a running tray (started by tests/e2e/menu_sync.sh) through changes to
its runtime folder and to real HTTP servers on 127.0.0.1 that answer as
Osaurus does. After each change it reads the whole menu over D-Bus
(com.canonical.dbusmenu, as a Linux panel does) and requires, within 2 s:

- the rendered tree (labels, enabled flags, check marks, children) to equal
  the tray's MenuModel, which the tray writes to $OSAURUS_TRAY_MENU_DUMP;
- every instance row to be about one instance: its label shows that
  instance's URL and state, and its submenu's details row ("ID …") names the same one;
- clicking "Copy URL" in an instance's submenu to put that instance's URL on
  the clipboard.

Usage: menu_sync.py named | SEED [STEPS]
"""

import datetime as dt
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME = os.environ["RUNTIME"]
DUMP = os.environ["OSAURUS_TRAY_MENU_DUMP"]
DEADLINE = 2.0
# The servers run in this process, which started a moment ago, and a file
# older than the process listening on its port is a crash leftover: a file
# with a server is dated from now on, seconds apart (a time more than a
# minute in the future is not believed). Files without a server may be older.
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=1)
ID_ROW = re.compile(r"^ID (\S+)(?: · .*)?$")


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


# ---- Osaurus as its files and its server are ------------------------------


def osaurus_json(obj):
    """JSONSerialization with prettyPrinted and sortedKeys: two-space indent,
    `"key" : value`, `/` escaped, no trailing newline."""
    text = json.dumps(obj, indent=2, sort_keys=True, separators=(",", " : "), ensure_ascii=False)
    return text.replace("/", "\\/")


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, head=False):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(data)
        self.close_connection = True

    def do_HEAD(self):
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def do_GET(self):
        path = self.path.split("?")[0]
        for prefix in ("/v1", "/api"):
            if path.startswith(prefix + "/"):
                path = path[len(prefix):]
        if path == "/health":
            return self.answer(200, json.dumps({"status": "healthy", "timestamp": stamp(NOW)}))
        if path == "/models":
            if self.server.wants_key:
                err = {"error": {"message": "Missing or invalid API key", "type": "authentication_error"}}
                return self.answer(401, json.dumps(err, separators=(",", ":")))
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "osaurus"} for m in self.server.models]
            return self.answer(200, json.dumps({"object": "list", "data": data}, separators=(",", ":")))
        return self.answer(404, '{"error":"not found"}')


USED_PORTS = set()


class Server:
    """An Osaurus HTTP server on 127.0.0.1:port that can stop and come back.
    A new server never takes a port an earlier one (or a leftover) named."""

    def __init__(self, port=0, wants_key=False, models=("llama-3.2-3b-instruct-4bit",)):
        self.wants_key = wants_key
        self.models = list(models)
        self.httpd = None
        self.port = port
        self.start()

    def start(self):
        ThreadingHTTPServer.allow_reuse_address = True
        while True:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
            if self.port or self.httpd.server_address[1] not in USED_PORTS:
                break
            self.httpd.server_close()
        USED_PORTS.add(self.httpd.server_address[1])
        self.httpd.daemon_threads = True
        self.httpd.wants_key = self.wants_key
        self.httpd.models = self.models
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def up(self):
        return self.httpd is not None


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in USED_PORTS:
            USED_PORTS.add(port)
            return port


class Instance:
    def __init__(self, updated, exposed=False, server=True, wants_key=False):
        self.id = str(uuid.UUID(int=random.getrandbits(128), version=4)).upper()
        self.updated = updated
        self.exposed = exposed
        self.health = "running"
        self.server = Server(wants_key=wants_key) if server else None
        self.port = self.server.port if server else free_port()

    @property
    def folder(self):
        return os.path.join(RUNTIME, self.id)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def answering(self):
        return self.server is not None and self.server.up

    def write(self):
        """Publishes the file as Osaurus does: a temp file, then a rename."""
        doc = {"instanceId": self.id, "updatedAt": stamp(self.updated), "health": self.health}
        if self.health == "running":
            # Without an en* interface Osaurus writes 127.0.0.1 even when exposed.
            doc.update(port=self.port, address="127.0.0.1", url=self.url, exposeToNetwork=self.exposed)
        os.makedirs(self.folder, exist_ok=True)
        tmp = os.path.join(self.folder, f".dat.nosync{os.getpid():x}.{random.randrange(1 << 24):06X}")
        with open(tmp, "w") as f:
            f.write(osaurus_json(doc))
        os.rename(tmp, os.path.join(self.folder, "configuration.json"))

    def remove(self):
        shutil.rmtree(self.folder)
        if self.server:
            self.server.stop()


# ---- The menu as the desktop reads it -------------------------------------


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=10)


class DBusMenu:
    def __init__(self):
        out = run("gdbus", "call", "--session", "-d", "org.kde.StatusNotifierWatcher", "-o",
                  "/StatusNotifierWatcher", "-m", "org.freedesktop.DBus.Properties.Get",
                  "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems").stdout
        entry = re.findall(r"'([^']+)'", out)[0]
        self.bus = entry.split("/")[0]
        tree = run("gdbus", "introspect", "--session", "-d", self.bus, "-o", "/org/ayatana/NotificationItem").stdout
        node = re.findall(r"node (\w+)", tree)[0]
        out = run("gdbus", "call", "--session", "-d", self.bus, "-o", f"/org/ayatana/NotificationItem/{node}",
                  "-m", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierItem", "Menu").stdout
        self.path = re.findall(r"'(/[^']*)'", out)[0]

    def layout(self):
        """The whole menu: [{id, label, enabled, toggle-state, children}]."""
        out = run("busctl", f"--address={os.environ['DBUS_SESSION_BUS_ADDRESS']}", "--json=short", "call", "--",
                  self.bus, self.path, "com.canonical.dbusmenu", "GetLayout", "iias", "0", "-1", "3", "label",
                  "enabled", "toggle-state")
        if out.returncode != 0:
            return None

        def val(props, key, default=None):
            v = props.get(key)
            return v["data"] if isinstance(v, dict) and "data" in v else default

        def node(v):
            d = v["data"] if isinstance(v, dict) and "data" in v else v
            ident, props, kids = d
            toggle = val(props, "toggle-state")
            return {"id": ident, "label": unmnemonic(val(props, "label", "")), "enabled": val(props, "enabled", True),
                    "toggle-state": toggle if toggle in (0, 1) else None, "children": [node(k) for k in kids]}

        return node(json.loads(out.stdout)["data"][1])["children"]

    def click(self, ident):
        run("busctl", f"--address={os.environ['DBUS_SESSION_BUS_ADDRESS']}", "call", "--", self.bus, self.path,
            "com.canonical.dbusmenu", "Event", "isvu", str(ident), "clicked", "s", "", "0")


def unmnemonic(label):
    """GTK's mnemonic text back to the label: `__` is `_`, `_x` is `x`."""
    return re.sub(r"_(.)", r"\1", label)


def strip_ids(tree):
    return [{k: (strip_ids(v) if k == "children" else v) for k, v in n.items() if k != "id"} for n in tree]


def model():
    try:
        with open(DUMP) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ---- What must hold --------------------------------------------------------


def instance_rows(tree):
    """(row, short id) for each top-level submenu that is an instance's."""
    rows = []
    for n in tree:
        ids = [m.group(1) for c in n["children"] if (m := ID_ROW.match(c["label"]))]
        if ids:
            rows.append((n, ids[0]))
    return rows


def problems(tree, world):
    """What the rendered menu says that is not true of `world`."""
    out = []
    running = {i.id[:8]: i for i in world if i.health == "running"}
    rows = instance_rows(tree)
    shown = sorted(short for _, short in rows)
    if shown != sorted(running):
        out.append(f"instance rows for {shown}, running: {sorted(running)}")
    for row, short in rows:
        i = running.get(short)
        if i is None:
            continue
        label = row["label"]
        if not (label == i.url or label.startswith(i.url + " ")):
            out.append(f"the row of {short} reads {label!r}, its URL is {i.url}")
        if ("[LAN]" in label) != i.exposed:
            out.append(f"the row of {short} reads {label!r}, exposed: {i.exposed}")
        quiet = "(not responding)" in label or "(left over)" in label
        if quiet == i.answering:
            out.append(f"the row of {short} reads {label!r}, answering: {i.answering}")
    for i in world:
        if i.health in ("starting", "restarting"):
            want = f"{i.health.capitalize()}… ({i.id[:8]})"
            if not any(n["label"] == want for n in tree):
                out.append(f"no row {want!r}")
    exposed = sorted(f"⚠ Exposed to the local network: {i.url}" for i in running.values() if i.exposed)
    warnings = sorted(n["label"] for n in tree if n["label"].startswith("⚠ Exposed"))
    if warnings != exposed:
        out.append(f"warnings {warnings}, want {exposed}")
    return out


STATS = []


def settle(menu, world, what):
    """Waits until the rendered menu equals the model and tells the truth."""
    t0 = time.monotonic()
    last = None
    while True:
        tree = menu.layout()
        want = model()
        if tree is not None and want is not None:
            rendered = strip_ids(tree)
            wrong = problems(tree, world)
            if rendered == want and not wrong:
                STATS.append(time.monotonic() - t0)
                return tree
            last = (rendered, want, wrong)
        if time.monotonic() - t0 > DEADLINE:
            rendered, want, wrong = last or (tree, want, ["no menu read"])
            diff = first_difference(rendered, want)
            fail(f"{what}: after {DEADLINE} s the menu is not right.\n  wrong: {wrong}\n  first difference "
                 f"rendered vs model: {diff}\n  rendered: {json.dumps(rendered, ensure_ascii=False)}")
        time.sleep(0.03)


def first_difference(a, b, path="menu"):
    if isinstance(a, list) and isinstance(b, list):
        for k, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{k}]")
        return None if len(a) == len(b) else f"{path}: {len(a)} items vs {len(b)}"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{path}.{k}")
        return None
    return f"{path}: {a!r} vs {b!r}"


def clipboard():
    out = run("xclip", "-o", "-selection", "clipboard")
    return out.stdout if out.returncode == 0 else None


def copy_url_of(menu, world, tree, rng):
    """Clicks Copy URL in a random instance's submenu; the clipboard must
    then hold that instance's URL."""
    rows = instance_rows(tree)
    if not rows:
        return
    click_copy_url(menu, world, *rng.choice(rows))


def click_copy_url(menu, world, row, short):
    """Clicks Copy URL in the submenu `row` of instance `short`; the
    clipboard must then hold that instance's URL within the deadline."""
    instance = next(i for i in world if i.id.startswith(short))
    item = next(c for c in row["children"] if c["label"] == "Copy URL")
    menu.click(item["id"])
    t0 = time.monotonic()
    while time.monotonic() - t0 < DEADLINE:
        if clipboard() == instance.url:
            return
        time.sleep(0.03)
    fail(f"Copy URL under {row['label']!r} ({short}) copied {clipboard()!r}, not {instance.url}")


# ---- The changes -----------------------------------------------------------


class World:
    def __init__(self, rng):
        self.rng = rng
        self.instances = []

    def times(self):
        return sorted(i.updated for i in self.instances)

    def add(self, when, **kw):
        if kw.get("server", True):
            when = max(when, NOW)
        i = Instance(when, **kw)
        i.write()
        self.instances.append(i)
        return i

    def pick(self, pred=lambda i: True):
        choices = [i for i in self.instances if pred(i)]
        return self.rng.choice(choices) if choices else None


def step(w, kind):
    """Makes one change of `kind`; returns what it did, or None if it could not."""
    rng = w.rng
    times = w.times()
    if kind == "newest":
        i = w.add((times[-1] if times else NOW) + dt.timedelta(seconds=rng.randint(1, 3)), exposed=rng.random() < 0.3)
        return f"new newest {i.id[:8]}"
    if kind == "oldest":
        i = w.add((times[0] if times else NOW) - dt.timedelta(seconds=rng.randint(1, 3)), exposed=rng.random() < 0.3)
        return f"new oldest {i.id[:8]}"
    if kind == "middle" and len(times) >= 2:
        a, b = sorted(rng.sample(times, 2))
        i = w.add(a + (b - a) / 2, exposed=rng.random() < 0.3)
        return f"new middle {i.id[:8]}"
    if kind == "remove":
        i = w.pick()
        if i:
            i.remove()
            w.instances.remove(i)
            return f"removed {i.id[:8]}"
    if kind == "stop":
        i = w.pick(lambda i: i.answering and i.health == "running")
        if i:
            i.server.stop()
            return f"server of {i.id[:8]} stopped"
    if kind == "resume":
        i = w.pick(lambda i: i.server and not i.server.up and i.health == "running")
        if i:
            i.server.start()
            return f"server of {i.id[:8]} back"
    if kind == "expose":
        i = w.pick(lambda i: i.health == "running")
        if i:
            i.exposed = not i.exposed
            i.write()
            return f"{i.id[:8]} exposed: {i.exposed}"
    if kind == "restart":
        i = w.pick(lambda i: i.health == "running" and i.server)
        if i:
            i.server.stop()
            i.health = "restarting"
            i.write()
            return f"{i.id[:8]} restarting"
    if kind == "running":
        i = w.pick(lambda i: i.health in ("restarting", "starting"))
        if i:
            i.server = i.server or Server()
            if not i.server.up:
                i.server.start()
            i.port = i.server.port
            i.health = "running"
            i.write()
            return f"{i.id[:8]} running again"
    if kind == "port":
        i = w.pick(lambda i: i.health == "running" and i.answering)
        if i:
            i.server.stop()
            i.server = Server(wants_key=i.server.wants_key)
            i.port = i.server.port
            i.write()
            return f"{i.id[:8]} moved to port {i.port}"
    if kind == "leftover":
        i = w.add((times[-1] if times else NOW) - dt.timedelta(minutes=rng.randint(1, 30)), server=False)
        with open(os.path.join(i.folder, f".dat.nosync{os.getpid():x}.DEAD"), "w") as f:
            f.write('{\n  "health" : "run')
        return f"crash leftover {i.id[:8]} on port {i.port}"
    return None


KINDS = ["newest", "oldest", "middle", "remove", "stop", "resume", "expose", "restart", "running", "port",
         "leftover"]


def random_run(menu, seed, steps):
    rng = random.Random(seed)
    random.seed(seed)
    w = World(rng)
    done = 0
    kinds_seen = set()
    while done < steps:
        # Keep between 1 and 8 instances: big enough to reorder, small enough to read.
        n = len(w.instances)
        kind = rng.choice(KINDS if 1 < n < 8 else (["newest", "oldest", "leftover"] if n <= 1 else ["remove"]))
        what = step(w, kind)
        if what is None:
            continue
        done += 1
        kinds_seen.add(kind)
        tree = settle(menu, w.instances, f"seed {seed}, step {done} ({what})")
        copy_url_of(menu, w.instances, tree, rng)
        print(f"  {done:2}. {what}: menu right after {STATS[-1] * 1000:.0f} ms", flush=True)
    for i in list(w.instances):
        i.remove()
    settle(menu, [], f"seed {seed}, all removed")
    print(f"ok: seed {seed}: {steps} changes ({len(kinds_seen)} kinds), the menu matched after each", flush=True)


def named(menu):
    """The cases first found by hand, each checked on its own."""
    w = World(random.Random(1))
    random.seed(1)
    a = w.add(NOW)
    b = w.add(NOW + dt.timedelta(seconds=1), exposed=True)
    settle(menu, w.instances, "A local, B exposed")
    c = w.add(NOW + dt.timedelta(seconds=2))
    tree = settle(menu, w.instances, "C starts, newest, first")
    for row, short in instance_rows(tree):
        click_copy_url(menu, w.instances, row, short)
    if [short for _, short in instance_rows(tree)][0] != c.id[:8]:
        fail("the newest instance is not listed first")
    print("ok: a new newest instance gets its own row; every row's Copy URL copies its own URL", flush=True)

    before = next(r for r, s in instance_rows(tree) if s == b.id[:8])
    b.server.stop()
    tree = settle(menu, w.instances, "B's server stops")
    row = next(r for r, s in instance_rows(tree) if s == b.id[:8])
    if "(not responding)" not in row["label"]:
        fail(f"B's row reads {row['label']!r} after its server stopped")
    if row["id"] != before["id"]:
        fail(f"B's row was replaced (item {before['id']} became {row['id']}), not relabelled")
    print(f"ok: a stopped server's row says so, in place: {row['label']!r}", flush=True)

    c.remove()
    w.instances.remove(c)
    tree = settle(menu, w.instances, "C's folder removed")
    print("ok: after a folder is removed, every row is still its own instance's", flush=True)

    for i in list(w.instances):
        i.remove()
        w.instances.remove(i)
    d = w.add(NOW, wants_key=True)
    tree = settle(menu, w.instances, "a local server that wants a key")
    row = next(r for r, s in instance_rows(tree) if s == d.id[:8])
    models = next(x for x in row["children"] if x["label"] == "Models")
    deadline = time.monotonic() + DEADLINE
    while True:
        labels = [x["label"] for x in models["children"]]
        if labels[:1] == ["Models need an access key (the server answered 401)"]:
            break
        if time.monotonic() > deadline:
            fail(f"a local 401 reads {labels}")
        time.sleep(0.05)
        tree = settle(menu, w.instances, "a local server that wants a key")
        row = next(r for r, s in instance_rows(tree) if s == d.id[:8])
        models = next(x for x in row["children"] if x["label"] == "Models")

    def walk(nodes):
        for n in nodes:
            yield n["label"]
            yield from walk(n["children"])

    said = [label for label in walk(tree) if "xposed" in label or "LAN" in label]
    if said:
        fail(f"a local server's menu speaks of exposure: {said}")
    print("ok: a local 401 says a key is needed, and nothing about the LAN", flush=True)
    d.remove()
    w.instances.remove(d)
    settle(menu, [], "all removed")


def main():
    menu = None
    t0 = time.monotonic()
    while menu is None:
        try:
            menu = DBusMenu()
        except (IndexError, subprocess.TimeoutExpired):
            if time.monotonic() - t0 > 10:
                fail("no tray item on the bus")
            time.sleep(0.05)
    if sys.argv[1] == "named":
        named(menu)
    else:
        random_run(menu, int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 40)
    s = sorted(STATS)
    print(f"settled: {len(s)} menus, p50 {s[len(s) // 2] * 1000:.0f} ms, max {s[-1] * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    main()
