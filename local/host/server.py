"""The HTTP server: keep-alive HTTP/1.1 in front of the routing table, with the app's timers and
blob triggers started and stopped along with it."""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

import azure.functions as func

if TYPE_CHECKING:
    pass

from local.host.blob_triggers import DEFAULT_BLOB_POLL_SECONDS, BlobTriggers, blob_trigger_functions
from local.host.cosmos_triggers import DEFAULT_COSMOS_POLL_SECONDS, CosmosTriggers, cosmos_trigger_functions
from local.host.routing import LocalFunctionsHost, error_response
from local.host.timers import TimerRunner, timer_functions

log = logging.getLogger(__name__)


# Statuses that never carry a body (RFC 9110 6.4.1); Kestrel sends no Content-Length for them.
BODILESS_STATUSES = frozenset({204, 304})
# Kestrel's own limits: a request body of at most ~28.6 MB (we allow 64 MiB: imports go to blob
# storage directly, never through here), and a body that stops arriving fails after a while.
MAX_BODY_BYTES = 64 * 1024 * 1024
BODY_TIMEOUT_SECONDS = 10.0
# Result codes of what the stdlib refuses before a request reaches the routing table.
STATUS_CODES = {
    400: "BadRequest",
    408: "RequestTimeout",
    413: "BodyTooLarge",
    414: "UriTooLong",
    431: "RequestHeaderFieldsTooLarge",
    501: "MethodNotImplemented",
}


def content_type(response: func.HttpResponse) -> str:
    """What the Python worker sends when the function set none: charset only for text/* types."""
    if response.mimetype.startswith("text/"):
        return f"{response.mimetype}; charset={response.charset}"
    return response.mimetype


# A header line the stdlib's email parser would store as it stands: a token name, a colon, a value
# without CR or LF (no continuation line, no missing name, nothing it would note as a defect).
_PLAIN_HEADER = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([^\r\n]*)")
# Fewer lines than http.client's limit of 100 (blank line included): its refusal stays its own.
_PLAIN_MAX_LINES = 98
_PLAIN_MAX_LINE = 65534  # http.client's 65536, less the CRLF

# The last Date header sent and its second: shared by every connection's thread.
_date_header: list[tuple[int, str]] = [(0, "")]


# Headers the host writes itself, whatever the function set.
_FRAMING = frozenset({"content-length", "transfer-encoding"})
_SERVER = f"Server: {BaseHTTPRequestHandler.server_version} {BaseHTTPRequestHandler.sys_version}\r\nDate: "


def _reason(status: int) -> str:
    known = BaseHTTPRequestHandler.responses.get(status)
    return known[0] if known else ""


class _TooLarge(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of the real host get
    # Without it, keep-alive responses wait ~45 ms on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    functions_host: LocalFunctionsHost
    body_timeout: float = BODY_TIMEOUT_SECONDS
    raw_requestline: bytes

    def parse_request(self) -> bool:
        """http.server's, except that a plain HTTP/1.1 request (every header line simple, all in
        the read buffer already, no Expect) has its headers split here: the stdlib runs them
        through the email parser, about a third of the host's own time per request. Anything else
        goes to the stdlib, which also answers every malformed request."""
        return self._parse_plain_request() or super().parse_request()

    def _parse_plain_request(self) -> bool:
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] != "HTTP/1.1" or words[1].startswith("//"):
            return False
        buffered = cast(io.BufferedReader, self.rfile).peek()
        if buffered.startswith(b"\r\n"):
            block, consumed = b"", 2
        else:
            end = buffered.find(b"\r\n\r\n")
            if end < 0:
                return False  # not all in the buffer yet: the stdlib reads on
            block, consumed = buffered[:end], end + 4
        lines = block.split(b"\r\n") if block else []
        if len(lines) > _PLAIN_MAX_LINES:
            return False
        fields: list[tuple[str, str]] = []
        for line in lines:
            found = _PLAIN_HEADER.fullmatch(line) if len(line) <= _PLAIN_MAX_LINE else None
            if found is None or found[1].lower() == b"expect":
                return False
            # As the email parser's compat32 policy stores it: value without leading blanks.
            fields.append((str(found[1], "iso-8859-1"), str(found[2], "iso-8859-1").lstrip(" \t")))
        self.rfile.read(consumed)
        headers = self.MessageClass()
        for name, value in fields:
            headers.set_raw(name, value)
        headers.set_payload("")
        self.command, self.path, self.request_version = words[0], words[1], words[2]
        self.requestline, self.headers = requestline, headers
        self.close_connection = headers.get("Connection", "").lower() == "close"
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every refusal of the stdlib server (a bad request line, a 70 KB path, too many headers,
        TRACE or CONNECT) as a Result object, never an HTML page."""
        self.close_connection = True
        # The stdlib takes a one-word request line for HTTP/0.9 and would answer without a status
        # line or headers; this host speaks HTTP/1.1 only.
        self.request_version = self.protocol_version
        text = message or self.responses.get(code, ("Error",))[0]
        self._write(error_response(code, STATUS_CODES.get(code, "BadRequest"), text))

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, formatted once per second (it has a resolution of one second)."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        second = int(time.time())
        formatted = _date_header[0]  # one tuple: a thread never sees one second's text for another
        if formatted[0] != second:
            formatted = (second, super().date_time_string(second))
            _date_header[0] = formatted
        return formatted[1]

    def log_message(self, format: str, *args: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):  # called for every response: skip building its text
            log.debug("%s - " + format, self.address_string(), *args)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers, up to the empty line
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _read_body(self) -> bytes:
        if "Content-Length" not in self.headers and "Transfer-Encoding" not in self.headers:
            return b""  # no body (most GETs): nothing to wait for, so no timeout to set and reset
        # A body that stops arriving must not hold this thread (and the client) for ever.
        self.connection.settimeout(self.body_timeout)
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            declared = (self.headers.get("Content-Length") or "0").strip()
            if not declared.isascii() or not declared.isdigit():
                raise ValueError("Content-Length is not a number")
            length = int(declared)
            if length > MAX_BODY_BYTES:
                raise _TooLarge
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                raise ValueError("the body ended before its Content-Length")
            return body
        finally:
            self.connection.settimeout(None)

    def _request_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            # Repeated headers are combined, as ASP.NET Core hands them on.
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return headers

    def _origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host}:{port}'}"

    def _respond(self) -> func.HttpResponse:
        try:
            body = self._read_body()
        except _TooLarge:
            self.close_connection = True
            return error_response(
                413, STATUS_CODES[413], f"A request body may have at most {MAX_BODY_BYTES} bytes"
            )
        except TimeoutError:
            self.close_connection = True
            return error_response(408, STATUS_CODES[408], "The request body did not arrive in time")
        except ValueError:
            self.close_connection = True  # the body's end is unknown, so the stream cannot be reused
            return error_response(400, "BadRequest", "Unreadable Content-Length or chunked body")
        try:
            return self.functions_host.handle(
                self.command, self.path, self._request_headers(), body, self._origin()
            )
        except Exception:
            log.exception("Local host failed on %s %s", self.command, self.path)
            return error_response(500, "InternalServerError", "The local host failed")

    def _write(self, response: func.HttpResponse) -> None:
        status = response.status_code
        bodiless = status in BODILESS_STATUSES or status < 200
        payload = response.get_body() or b""
        sent = payload if payload and not bodiless and self.command != "HEAD" else b""
        self.log_request(status)
        if self.request_version == "HTTP/0.9":  # the stdlib sends no status line or headers then
            if sent:
                self.wfile.write(sent)
            return
        # What send_response and send_header would write, in one string: they cost a call, a
        # format and an encode per header, a fifth of the host's own time on a small response.
        lines = [
            f"{self.protocol_version} {status} {_reason(status)}\r\n{_SERVER}{self.date_time_string()}\r\n"
        ]
        has_type = False
        for key, value in response.headers.items():
            lower = key.lower()
            if lower in _FRAMING:  # framing is the host's job
                continue
            has_type = has_type or lower == "content-type"
            if lower == "connection":  # as send_header honours it
                self.close_connection = self.close_connection or value.lower() == "close"
            lines.append(f"{key}: {value}\r\n")
        if not bodiless:
            if not has_type:
                lines.append(f"Content-Type: {content_type(response)}\r\n")
            lines.append(f"Content-Length: {len(payload)}\r\n")  # for HEAD: what GET would send
        lines.append("\r\n")
        # Headers and body in one write: http.server writes them separately, which costs a second
        # syscall and, with Nagle off, a second segment the client waits for.
        self.wfile.write("".join(lines).encode("latin-1", "strict") + sent)

    def _serve(self) -> None:
        self._write(self._respond())

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Kestrel's listen backlog. socketserver's 5 made the kernel drop connections beyond it when
    # 32 clients connected at once (bench/load.py): some were reset after a 1 s SYN retry.
    request_queue_size = 512
    functions_host: LocalFunctionsHost
    timer_runner: TimerRunner | None = None
    blob_triggers: BlobTriggers | None = None
    cosmos_triggers: CosmosTriggers | None = None

    def start_timers(self) -> None:
        if self.timer_runner is not None:
            self.timer_runner.start()

    def start_blob_triggers(self) -> None:
        if self.blob_triggers is not None:
            self.blob_triggers.start()
        if self.cosmos_triggers is not None:
            self.cosmos_triggers.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is routine, not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client %s went away", client_address)
        else:
            log.exception("error serving %s", client_address)

    def stop_triggers(self) -> None:
        if self.timer_runner is not None:
            self.timer_runner.stop()
        if self.blob_triggers is not None:
            self.blob_triggers.stop()
        if self.cosmos_triggers is not None:
            self.cosmos_triggers.stop()

    def shutdown(self) -> None:
        """Stop serving, timers and blob triggers, and release the port (tests start and stop hosts
        on free ports)."""
        self.stop_triggers()
        super().shutdown()
        self.server_close()


def make_server(
    app: func.FunctionApp,
    host: str = "127.0.0.1",
    port: int = 0,
    route_prefix: str | None = None,
    *,
    timers: bool = False,
    blob_triggers: bool = False,
    blob_poll_seconds: float = DEFAULT_BLOB_POLL_SECONDS,
    cosmos_triggers: bool = False,
    cosmos_poll_seconds: float = DEFAULT_COSMOS_POLL_SECONDS,
) -> LocalHTTPServer:
    """The server of `app`; with `timers`, its timer schedules are checked (ValueError when one is
    not supported) and `start_timers()` starts them. With `blob_triggers`, `server.blob_triggers`
    watches the blob triggers (connections from os.environ; a trigger that cannot run is in its
    `errors`); `start_blob_triggers()` starts polling, `server.blob_triggers.scan_once()` delivers
    synchronously instead. With `cosmos_triggers`, `server.cosmos_triggers` emulates the Cosmos DB
    triggers by polling (started with the blob triggers; `caught_up()` waits for them)."""
    functions_host = LocalFunctionsHost(app, route_prefix)
    runner = TimerRunner(timer_functions(app)) if timers else None
    blobs = (
        BlobTriggers(blob_trigger_functions(app), poll_seconds=blob_poll_seconds) if blob_triggers else None
    )
    handler = type("Handler", (_Handler,), {"functions_host": functions_host})
    server = LocalHTTPServer((host, port), handler)
    server.functions_host = functions_host
    server.timer_runner = runner
    server.blob_triggers = blobs
    server.cosmos_triggers = (
        CosmosTriggers(cosmos_trigger_functions(app), poll_seconds=cosmos_poll_seconds)
        if cosmos_triggers
        else None
    )
    return server


def start_in_thread(
    app: func.FunctionApp,
    host: str = "127.0.0.1",
    port: int = 0,
    route_prefix: str | None = None,
    **options: Any,
) -> tuple[LocalHTTPServer, str]:
    """Serve `app` from a daemon thread, run its timers with `timers=True` and poll its blob
    triggers with `blob_triggers=True` (Cosmos DB triggers with `cosmos_triggers=True`); returns
    the server (`shutdown()` stops all) and base URL."""
    server = make_server(app, host, port, route_prefix, **options)
    threading.Thread(target=server.serve_forever, name="local-functions-host", daemon=True).start()
    server.start_timers()
    server.start_blob_triggers()
    return server, f"http://{host}:{server.server_address[1]}"
