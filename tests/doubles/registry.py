"""A TEST DOUBLE of an external DPP registry (the receiving end of EN 18222 RegisterProductDPP).
Not a registry: it validates nothing and stores nothing but what it was sent.

A stdlib `http.server` on a free 127.0.0.1 port. Every request is recorded (method, path, headers,
raw and parsed JSON body, the status answered) and answered 201 with a small JSON body. Tests
steer it:

- `fail_next(n, status=503)`: answer the next `n` requests with `status` (a transient failure);
- `reject(status=400)`: answer every request with `status` until `accept()` (a permanent refusal);
- `stop()`: take the registry down (the server is closed, so the port refuses connections);
  `start()` brings it back on the same port, with the requests recorded so far kept.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

HOST = "127.0.0.1"
PATH = "/registry/dpps"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    body: Any  # the parsed JSON, or None when the body was not JSON
    status: int  # what the double answered

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    double: RegistryDouble

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status = self.double._answer_for(self.command)
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.double._record(Received(self.command, self.path, headers, raw, body, status))
        reply = {"registered": True} if 200 <= status < 300 else {"error": f"test double answered {status}"}
        payload = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_GET = do_DELETE = _handle


class RegistryDouble:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._port = 0  # chosen by the first start(), reused afterwards
        self._fail_next = 0
        self._fail_status = 503
        self._reject_status: int | None = None
        self.requests: list[Received] = []

    # -- control ---------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"double": self})
        server = ThreadingHTTPServer((HOST, self._port), handler)  # allow_reuse_address is on
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, name="registry-double", daemon=True).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def up(self) -> bool:
        return self._server is not None

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._fail_next, self._fail_status = count, status

    def reject(self, status: int = 400) -> None:
        with self._lock:
            self._reject_status = status

    def accept(self) -> None:
        with self._lock:
            self._reject_status, self._fail_next = None, 0

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("start() the double first: its port is chosen then")
        return f"http://{HOST}:{self._port}{PATH}"

    # -- what it saw -----------------------------------------------------------------------------

    def received(self, dpp_id: str | None = None) -> list[Received]:
        with self._lock:
            seen = list(self.requests)
        if dpp_id is None:
            return seen
        return [r for r in seen if isinstance(r.body, dict) and r.body.get("dppId") == dpp_id]

    def accepted(self, dpp_id: str | None = None) -> list[Received]:
        return [r for r in self.received(dpp_id) if r.accepted]

    # -- internals -------------------------------------------------------------------------------

    def _answer_for(self, method: str) -> int:
        if method != "POST":
            return 405
        with self._lock:
            if self._reject_status is not None:
                return self._reject_status
            if self._fail_next > 0:
                self._fail_next -= 1
                return self._fail_status
        return 201

    def _record(self, received: Received) -> None:
        with self._lock:
            self.requests.append(received)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
