"""A real HTTP server for the hub tests: serves generated files, misbehaves on request, records requests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    sent: int = 0  # body bytes the server wrote


@dataclass
class FileServer:
    """``plan[path]`` is a list of one-shot actions consumed by successive requests for ``path``:

    ``("status", code, headers)``   answer with that status (and headers), no body
    ``("drop", n)``                 promise the whole file, send ``n`` body bytes, close the connection
    ``("ignore_range",)``           answer 200 with the whole file whatever the Range
    ``("ignore_range", n)``         ... and close the connection after ``n`` body bytes
    ``("stall", seconds)``          send headers, then nothing for ``seconds``
    ``("redirect", location)``      302 to ``location``
    ``("slow", seconds)``           wait ``seconds`` before sending the (correct) body
    ``("throttle", n, seconds)``    send the body ``n`` bytes at a time, ``seconds`` apart
    ``("body", data, headers)``     answer 200 with ``data`` (e.g. an HTML error page) instead of the file
    With no action left the server behaves: Range/If-Range honoured, 206 or 416 as HTTP says.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    plan: dict[str, list[tuple]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    base: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, data: bytes) -> str:
        self.files[path] = data
        return self.url(path)

    def gets(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and (path is None or r.path == path)]


def make_handler(server: FileServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):  # noqa: N802
            record = Request("GET", self.path, dict(self.headers))
            with server.lock:
                server.requests.append(record)
                actions = server.plan.get(self.path) or []
                action = actions.pop(0) if actions else None
            data = server.files.get(self.path)
            if action and action[0] == "status":
                self.send_response(action[1])
                for k, v in (action[2] if len(action) > 2 else {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if action and action[0] == "body":
                self.send_response(200)
                for k, v in (action[2] if len(action) > 2 else {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(action[1])))
                self.end_headers()
                self.wfile.write(action[1])
                record.sent = len(action[1])
                return
            if action and action[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", action[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            start = 0
            rng = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if_range = self.headers.get("If-Range")
            honour = rng and not (action and action[0] == "ignore_range") and (if_range in (None, etag))
            if honour:
                start = int(rng.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if action and (action[0] == "drop" or (action[0] == "ignore_range" and len(action) > 1)):
                body = body[: action[1]]
                self.wfile.write(body)
                self.wfile.flush()
                record.sent = len(body)
                self.close_connection = True
                return
            if action and action[0] == "throttle":
                for i in range(0, len(body), action[1]):
                    self.wfile.write(body[i : i + action[1]])
                    self.wfile.flush()
                    record.sent += len(body[i : i + action[1]])
                    time.sleep(action[2])
                return
            if action and action[0] == "slow":
                self.wfile.flush()
                time.sleep(action[1])
            if action and action[0] == "stall":
                self.wfile.flush()
                time.sleep(action[1])
                return
            self.wfile.write(body)
            record.sent = len(body)

    return Handler


@pytest.fixture
def file_server():
    server = FileServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(server))
    httpd.daemon_threads = True
    httpd.block_on_close = False
    server.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch):
    """Record retry delays instead of sleeping."""
    import zoo.hub.transfer

    delays: list[float] = []
    monkeypatch.setattr(zoo.hub.transfer, "_sleep", delays.append)
    return delays


def payload(n: int, seed: int = 0) -> bytes:
    """Deterministic incompressible-looking bytes."""
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def home():
    from pathlib import Path

    return Path(os.environ["ZOO_HOME"])
