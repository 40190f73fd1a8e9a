#!/usr/bin/env python3
"""A stand-in for one Osaurus server, run as a process of its own, that logs
every request it gets as Osaurus does (so a benchmark can count what a client
costs the user's Insights view).

It answers as Osaurus does (docs: "The HTTP server", "What our requests cost
the user"): `GET /health` 200 `{"status":"healthy","timestamp":...}`;
`GET /v1/models` (also `/models`, `/api/models`) the model list, and while
exposed 401 `authentication_error` unless `Authorization: Bearer <--key>`;
`GET /` a short text; `HEAD` 204; `OPTIONS` 204 and not logged (Osaurus skips
logging preflight); anything else 404. Every answer has `Content-Length` and
`Connection: close`.

Log (`--log FILE`): one JSON line per request, written once it is answered:
  {"at": "<ISO 8601, ms>", "unix": <seconds>, "method": "GET",
   "path": "/health", "user_agent": "...", "peer": "127.0.0.1",
   "status": 200, "logged": true}
`logged` is false for OPTIONS, which Osaurus answers but does not log.

With `--runtime-dir DIR` it writes DIR/<instanceId>/configuration.json byte
for byte as Osaurus does (JSONSerialization, prettyPrinted + sortedKeys,
atomic write through a `.dat.nosync<pid-hex>.<random>` file), and removes
the folder on SIGTERM or SIGINT, as Osaurus does on stop; SIGKILL leaves it
behind, as a crash does. SIGUSR1 restarts it as Osaurus restarts when
exposure is toggled: `restarting`, the port closed, `starting` (half of
`--restart-ms` each), then `running` on the same port.

Prints the port it listens on (one line) once it listens and its file is
written. Python 3 standard library only.

Usage: scripts/fake-osaurus.py [--port N] [--expose] [--key KEY] [--log FILE]
         [--delay-ms N] [--body-delay-ms N] [--runtime-dir DIR]
         [--instance-id ID] [--address A] [--model ID]... [--restart-ms N]
"""
import argparse
import datetime
import json
import os
import random
import shutil
import signal
import socket
import string
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def utc_now(fraction=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    if fraction:
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def foundation_json(doc):
    """JSONSerialization with .prettyPrinted and .sortedKeys: two-space
    indent, `"key" : value`, `/` escaped, UTF-8 as is, no final newline."""
    text = json.dumps(doc, indent=2, sort_keys=True, separators=(",", " : "), ensure_ascii=False)
    return text.replace("/", "\\/")


def lan_address():
    """The first IPv4 address of an `en*` interface, else of any interface
    but loopback, as Osaurus picks it; 127.0.0.1 when there is none (Osaurus
    then writes 127.0.0.1 with exposeToNetwork true)."""
    found = []
    try:
        import fcntl

        for _, name in socket.if_nameindex():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
                addr = socket.inet_ntoa(packed[20:24])
            except OSError:
                continue
            finally:
                s.close()
            if not addr.startswith(("127.", "169.254.", "0.")):
                found.append((name, addr))
    except (ImportError, OSError):
        pass
    for name, addr in found:
        if name.startswith("en"):
            return addr
    return found[0][1] if found else "127.0.0.1"


class Fake:
    def __init__(self, args):
        self.args = args
        self.log_lock = threading.Lock()
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.folder = None

    def record(self, handler, status):
        if not self.log:
            return
        line = {
            "at": utc_now(fraction=True),
            "unix": round(time.time(), 6),
            "method": handler.command,
            "path": handler.path,
            "user_agent": handler.headers.get("User-Agent"),
            "peer": handler.client_address[0],
            "status": status,
            "logged": handler.command != "OPTIONS",
        }
        with self.log_lock:
            self.log.write(json.dumps(line, separators=(",", ":")) + "\n")

    def write_file(self, port, address, health="running"):
        """The running file, or (health `starting` or `restarting`) the
        three keys Osaurus writes while its server is not up."""
        if not self.args.runtime_dir:
            return
        iid = self.args.instance_id
        folder = os.path.join(self.args.runtime_dir, iid)
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        doc = {"instanceId": iid, "updatedAt": utc_now(), "health": health}
        if health == "running":
            doc.update(port=port, address=address, url="http://%s:%d" % (address, port),
                       exposeToNetwork=self.args.expose)
        suffix = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(6))
        tmp = os.path.join(folder, ".dat.nosync%x.%s" % (os.getpid(), suffix))
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(foundation_json(doc))
        os.rename(tmp, os.path.join(folder, "configuration.json"))

    def remove_file(self):
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def make_handler(fake):
    args = fake.args

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body=b"", ctype="application/json; charset=utf-8"):
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
            self.send_response_only(status)  # no Server or Date header, as Osaurus
            if body:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if args.body_delay_ms and body:
                self.wfile.flush()
                time.sleep(args.body_delay_ms / 1000)
            try:
                self.wfile.write(body)
                self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True
            fake.record(self, status)

        def route(self):
            path = self.path.split("?", 1)[0]
            for prefix in ("/v1/", "/api/"):
                if path.startswith(prefix):
                    path = path[len(prefix) - 1:]
                    break
            return path.rstrip("/") or "/"

        def authorised(self):
            if not args.expose:
                return True
            return bool(args.key) and self.headers.get("Authorization") == "Bearer " + args.key

        def do_GET(self):
            path = self.route()
            if path == "/health":
                body = json.dumps({"status": "healthy", "timestamp": utc_now(fraction=True)}, separators=(",", ":"))
                self.answer(200, body.encode())
            elif path == "/models":
                if not self.authorised():
                    err = {"error": {"message": "Invalid or missing API key", "type": "authentication_error"}}
                    self.answer(401, json.dumps(err, separators=(",", ":")).encode())
                    return
                now = int(time.time())
                data = [{"id": m, "object": "model", "created": now, "owned_by": "osaurus"} for m in args.model]
                body = json.dumps({"object": "list", "data": data}, separators=(",", ":")).replace("/", "\\/")
                self.answer(200, body.encode())
            elif path == "/":
                self.answer(200, b"Osaurus Server is running! \xf0\x9f\xa6\x95", "text/plain; charset=utf-8")
            else:
                self.answer(404, b'{"error":{"message":"Not Found","type":"not_found"}}')

        def do_HEAD(self):
            self.answer(204)

        def do_OPTIONS(self):
            self.answer(204)

        def other(self):
            self.answer(404, b'{"error":{"message":"Not Found","type":"not_found"}}')

        do_POST = do_PUT = do_DELETE = do_PATCH = other

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="port to listen on (0: any free one)")
    p.add_argument("--expose", action="store_true", help="listen on 0.0.0.0, as Osaurus exposed to the LAN")
    p.add_argument("--key", help="the access key /v1/models wants while exposed")
    p.add_argument("--log", help="append one JSON line per request to FILE")
    p.add_argument("--delay-ms", type=int, default=0, help="answer every request after N ms")
    p.add_argument("--body-delay-ms", type=int, default=0, help="send the body N ms after the headers")
    p.add_argument("--runtime-dir", help="write DIR/<instanceId>/configuration.json as Osaurus does")
    p.add_argument("--instance-id", default=None, help="default: a fresh upper-case UUID")
    p.add_argument("--address", help="the file's address (default: 127.0.0.1, or the LAN address when exposed)")
    p.add_argument("--model", action="append", help="a model id /v1/models lists (repeatable)")
    p.add_argument("--restart-ms", type=int, default=1000,
                   help="on SIGUSR1, restart as Osaurus does, the port closed for N ms")
    args = p.parse_args()
    if args.model is None:
        args.model = ["llama-3.2-3b-instruct-4bit", "openai/gpt-oss-20b"]
    if args.instance_id is None:
        import uuid

        args.instance_id = str(uuid.uuid4()).upper()

    fake = Fake(args)

    def stop(signum, frame):
        fake.remove_file()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

    restart = threading.Event()
    signal.signal(signal.SIGUSR1, lambda signum, frame: restart.set())
    host = "0.0.0.0" if args.expose else "127.0.0.1"
    httpd = Server((host, args.port), make_handler(fake))
    port = httpd.server_address[1]
    address = args.address or (lan_address() if args.expose else "127.0.0.1")
    fake.write_file(port, address)
    print(port, flush=True)
    while True:
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        while not restart.wait(0.05):
            pass
        # A restart, as toggling exposure makes one: the file says
        # restarting, the port closes, starting, the port opens, running.
        restart.clear()
        fake.write_file(port, address, "restarting")
        httpd.shutdown()
        httpd.server_close()
        time.sleep(args.restart_ms / 2000)
        fake.write_file(port, address, "starting")
        time.sleep(args.restart_ms / 2000)
        httpd = Server((host, port), make_handler(fake))
        fake.write_file(port, address)


if __name__ == "__main__":
    main()
