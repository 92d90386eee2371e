"""A TEST DOUBLE of an Azure Event Grid topic's publish endpoint, served over HTTPS. Not an emulator.

It answers what Event Grid answers a publisher of a topic with the CloudEvents 1.0 input schema:
`POST /api/events?api-version=2018-01-01` with `Content-Type: application/cloudevents-batch+json;
charset=utf-8` and a bearer token (Entra ID, scope https://eventgrid.azure.net/.default), the body
a JSON array of structured CloudEvents, each with `specversion` 1.0, `id`, `source` and `type`;
at most 1 MB per request and per event (413 beyond). 200 with an empty body when accepted; a
missing or wrong token 401, a wrong content type or a malformed event 400, as JSON
`{"error": {"code", "message"}}`. Tests read `received` (every accepted event, in order) and
`requests`, and make it fail the next n requests with `fail(n)`.

TLS is real: a throwaway CA and a certificate for `localhost`; clients trust `ca_file`.
"""

from __future__ import annotations

import json
import secrets
import shutil
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qs, urlsplit

from tests.doubles.web import certificates

SCOPE = "https://eventgrid.azure.net/.default"
API_VERSION = "2018-01-01"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"
MAX_BYTES = 1_048_576
REQUIRED = ("specversion", "id", "source", "type")


class Published(NamedTuple):
    """One request as the double saw it: the status it answered, its headers, its events."""

    status: int
    headers: dict[str, str]
    events: list[dict[str, Any]]


class EventGridTopicDouble:
    """`with EventGridTopicDouble() as topic:` point the SDK at `topic.endpoint` with a credential
    handing out `topic.token`, trusting `topic.ca_file`."""

    def __init__(self) -> None:
        self.token = "eg-double-" + secrets.token_urlsafe(24)
        self.received: list[dict[str, Any]] = []
        self.requests: list[Published] = []
        self._failing = 0
        self._lock = threading.Lock()
        self._tmp = Path(tempfile.mkdtemp(prefix="eg-double-"))
        ca, pair = certificates(self._tmp, "localhost")
        self.ca_file = str(ca)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*pair)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)

    @property
    def endpoint(self) -> str:
        """The topic endpoint, as Event Grid gives it (`https://<topic>.<region>-1.eventgrid.azure.net/api/events`)."""
        return f"https://localhost:{self._server.server_address[1]}/api/events"

    def fail(self, n: int) -> None:
        with self._lock:
            self._failing = n

    def __enter__(self) -> Self:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="eg-double", daemon=True
        ).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def publish(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any] | None]:
        """What the topic answers a request (status, error body); accepted events are kept."""
        parts = urlsplit(path)
        status, error, events = self._answer(parts.path, parse_qs(parts.query), headers, body)
        with self._lock:
            self.requests.append(Published(status, headers, events))
            if status == 200:
                self.received.extend(events)
        return status, error

    def _answer(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | None, list[dict[str, Any]]]:
        refusal = self._refusal(path, query, headers)
        if refusal is not None:
            return (*refusal, [])
        return _read_events(body)

    def _refusal(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]] | None:
        if path != "/api/events":
            return 404, _error("NotFound", f"{path} is not a topic's publish path")
        if query.get("api-version") != [API_VERSION]:
            return 400, _error("BadRequest", f"api-version {query.get('api-version')} is not supported")
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, _error("Unauthorized", "the request carries no valid bearer token")
        with self._lock:
            if self._failing > 0:
                self._failing -= 1
                return 500, _error("InternalServerError", "the topic failed (as told to)")
        if headers.get("content-type", "").lower() != BATCH_CONTENT_TYPE:
            return 400, _error("BadRequest", f"content type {headers.get('content-type')!r}")
        return None


def _read_events(body: bytes) -> tuple[int, dict[str, Any] | None, list[dict[str, Any]]]:
    if len(body) > MAX_BYTES:
        return 413, _error("RequestEntityTooLarge", f"the request is over {MAX_BYTES} bytes"), []
    try:
        events = json.loads(body)
    except ValueError:
        events = None
    if not isinstance(events, list) or not events:
        return 400, _error("BadRequest", "the body is not a non-empty JSON array of CloudEvents"), []
    problems = [problem for problem in map(_problem, events) if problem]
    if problems:
        return 400, _error("BadRequest", problems[0]), []
    return 200, None, events


def _problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "an event is not an object"
    missing = [name for name in REQUIRED if not isinstance(event.get(name), str) or not event[name]]
    if missing:
        return f"an event lacks {missing}"
    if event["specversion"] != "1.0":
        return f"specversion {event['specversion']} is not 1.0"
    if len(json.dumps(event).encode()) > MAX_BYTES:
        return f"event {event['id']} is over {MAX_BYTES} bytes"
    return None


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _handler_for(double: EventGridTopicDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, error = double.publish(self.path, headers, body)
            payload = b"" if error is None else json.dumps(error).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            if payload:
                self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler
