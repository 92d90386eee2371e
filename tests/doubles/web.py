"""A test double of "some web server out there": real HTTP on a loopback address, answering each
path as a test scripts it, and recording every request it gets (so a test can show that a refused
URL was never asked)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a peer that is too slow).
    delay: float = 0.0


Script = Callable[["Request"], Answer]


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout, a size cap) is what some tests are about.
        pass


class WebServer:
    """`with WebServer("127.0.0.2") as server: server.script["/x"] = Answer(...)`."""

    def __init__(self, host: str = "127.0.0.1"):
        self.script: dict[str, Answer | Script] = {}
        self.requests: list[Request] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
                owner.requests.append(request)
                scripted = owner.script.get(self.path.split("?")[0], Answer(404, b"{}"))
                answer = scripted(request) if callable(scripted) else scripted
                if answer.delay:
                    threading.Event().wait(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Quiet((host, 0), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        self.origin = f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def asked(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path.split("?")[0] == path)

    def __enter__(self) -> WebServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
