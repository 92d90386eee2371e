"""The HTTP server (local/host/server.py): keep-alive framing, HEAD, 204 and 304 without bodies,
Nagle off, combined headers, chunked bodies, unreadable lengths, request headers parsed as the
stdlib parses them."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from local.host.server import _Handler
from tests.local.host.toy_app import Served


def test_204_and_304_have_no_body(served: Served, session: requests.Session) -> None:
    deleted = session.delete(f"{served.base}/v1/items/abc")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert "Content-Length" not in deleted.headers
    not_modified = session.get(f"{served.base}/v1/cached", headers={"If-None-Match": '"v7"'})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["ETag"] == '"v7"'


def raw_request(port: int, method: str, path: str, header: str = "", body: bytes = b"") -> tuple[str, bytes]:
    """One HTTP/1.1 request as bytes; Host as requests sends it, so echoed URLs have equal length."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [header] if header else []
    lines += [f"Content-Length: {len(body)}"] if body else []
    return method, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange_raw(port: int, requests_bytes: list[bytes]) -> bytes:
    """Send pipelined requests on one connection (the last one closes it); all bytes answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"".join(requests_bytes))
        reply = b""
        while chunk := raw.recv(65536):
            reply += chunk
    return reply


def split_responses(data: bytes, methods: list[str]) -> list[tuple[int, dict[str, list[str]], bytes]]:
    """Parse responses strictly by their framing; stray bytes anywhere break the parse."""
    responses = []
    for method in methods:
        head, separator, data = data.partition(b"\r\n\r\n")
        assert separator, "truncated response"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        assert status_line.startswith("HTTP/1.1 "), status_line
        status = int(status_line.split()[1])
        headers: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = 0 if method == "HEAD" or status in (204, 304) else int(headers["content-length"][0])
        responses.append((status, headers, data[:length]))
        data = data[length:]
    assert data == b"", f"bytes beyond the last response: {data[:80]!r}"
    return responses


def test_keep_alive_framing_holds_for_every_kind_of_response(
    served: Served, session: requests.Session
) -> None:
    """A body on HEAD/204/304 or a wrong Content-Length would corrupt the responses after it."""
    get_length = len(session.get(f"{served.base}/v1/items/a").content)
    pipeline = [
        raw_request(served.port, "HEAD", "/api/v1/items/a"),
        raw_request(served.port, "DELETE", "/api/v1/items/a"),
        raw_request(served.port, "GET", "/api/v1/cached", 'If-None-Match: "v7"'),
        raw_request(served.port, "GET", "/api/v1/cached"),
        raw_request(served.port, "POST", "/api/v1/items", body=b'{"id": "k"}'),
        raw_request(served.port, "GET", "/api/v1/items/search", "Connection: close"),
    ]
    reply = exchange_raw(served.port, [request for _, request in pipeline])
    head, deleted, not_modified, fresh, created, searched = split_responses(
        reply, [method for method, _ in pipeline]
    )
    assert (head[0], head[1]["content-length"], head[2]) == (200, [str(get_length)], b"")
    assert (deleted[0], deleted[2], "content-length" in deleted[1]) == (204, b"", False)
    assert (not_modified[0], not_modified[1]["etag"]) == (304, ['"v7"'])
    # The function claimed Content-Length 999; framing is the host's, so it sends the real one.
    assert (fresh[0], fresh[1]["content-length"], fresh[2]) == (200, ["5"], b"fresh")
    assert (created[0], json.loads(created[2])["received"]) == (201, {"id": "k"})
    assert (searched[0], json.loads(searched[2])["handler"]) == (200, "search_items")
    assert all("connection" not in headers for _, headers, _ in (head, deleted, fresh, created))


def test_keep_alive_connections_disable_nagle(served: Served) -> None:
    """Nagle + delayed ACK add ~40 ms per keep-alive response; the stdlib handler sets TCP_NODELAY
    on each accepted connection when this flag is on. (The latency itself is measured in bench/.)"""
    assert served.server.RequestHandlerClass.disable_nagle_algorithm is True


def test_repeated_request_headers_are_combined(served: Served) -> None:
    request = raw_request(
        served.port, "GET", "/api/v1/items/a", "X-Tag: one\r\nX-Tag: two\r\nConnection: close"
    )
    [(status, _, body)] = split_responses(exchange_raw(served.port, [request[1]]), ["GET"])
    assert (status, json.loads(body)["tag"]) == (200, "one, two")


def test_chunked_request_body_is_read(served: Served, session: requests.Session) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": '
        yield b'"chunked"}'

    response = session.post(f"{served.base}/v1/items", data=chunks(), headers={"Content-Type": "text/json"})
    assert response.status_code == 201
    assert response.json()["received"] == {"id": "chunked"}


def test_unreadable_content_length_is_400(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw:
        raw.sendall(b"POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        reply = b""
        while chunk := raw.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["messages"][0]["code"] == "BadRequest"


def _answer(port: int, raw: bytes, timeout: float = 5) -> tuple[int, str, dict]:
    """Send raw bytes, read until the server closes; (status, content type, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(raw)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
    return int(lines[0].split()[1]), headers.get("content-type", ""), json.loads(body)


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"TRACE /api/v1/items HTTP/1.1\r\nHost: x\r\n\r\n", 501, "MethodNotImplemented"),
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", 501, "MethodNotImplemented"),
        (b"FROBNICATE /api/v1/items HTTP/1.1\r\nHost: x\r\n\r\n", 501, "MethodNotImplemented"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "UriTooLong"),
        (
            b"GET /api/v1/items HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(150)) + b"\r\n",
            431,
            "RequestHeaderFieldsTooLarge",
        ),
        (b"GARBAGE\r\n\r\n", 400, "BadRequest"),
        (
            b"POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nab",
            413,
            "BodyTooLarge",
        ),
    ],
)
def test_every_malformed_request_and_unknown_method_gets_a_result_object(
    served: Served, raw, status, code
) -> None:
    """Issue 14: these were HTML 501/414/431 pages, and a Content-Length beyond the body was
    never answered."""
    answered, media, body = _answer(served.port, raw)
    assert (answered, media) == (status, "application/json")
    assert body["messages"][0]["code"] == code


def test_a_body_that_stops_arriving_is_a_408_in_bounded_time(served: Served) -> None:
    handler = served.server.RequestHandlerClass
    before = handler.body_timeout
    handler.body_timeout = 0.5
    try:
        raw = b"POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"
        # The client gives up after 5 s, before the default 10 s: only the 0.5 s set here answers.
        status, _, body = _answer(served.port, raw, timeout=5)
        assert (status, body["messages"][0]["code"]) == (408, "RequestTimeout")
    finally:
        handler.body_timeout = before


class _Unserved(_Handler):
    """A handler over bytes in memory, parsing one request as the server would."""

    def __init__(self, data: bytes) -> None:  # no socket: only parse_request runs
        self.rfile = io.BufferedReader(io.BytesIO(data))  # type: ignore[assignment]
        self.wfile = io.BytesIO()  # type: ignore[assignment]
        self.client_address = ("127.0.0.1", 1)
        self.raw_requestline = self.rfile.readline(65537)
        self.command = None  # type: ignore[assignment]
        self.refused: tuple[int, str | None] | None = None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.refused = (code, message)


def _parsed(handler: _Unserved, parse: Callable[[_Unserved], bool]) -> tuple[object, ...]:
    accepted = parse(handler)
    headers = getattr(handler, "headers", None)
    return (
        accepted,
        handler.refused,
        handler.command,
        getattr(handler, "path", None),
        handler.request_version,
        handler.close_connection,
        None if headers is None else (headers.items(), [type(defect) for defect in headers.defects]),
        handler.rfile.read(),  # what is left for the body
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /a HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n",
        b"GET /a HTTP/1.1\r\n\r\n",
        b"GET /a HTTP/1.1\r\nX-Tag: one\r\nx-tag:  \ttwo  \r\nH: \xe9\xff\r\n\r\nbody",
        b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"GET /a HTTP/1.1\r\nConnection: Keep-Alive\r\n\r\n",
        b"GET /a HTTP/1.1\r\nX-Long: one\r\n two\r\n\r\n",  # a continuation line
        b"GET /a HTTP/1.1\r\nNo colon\r\nX: y\r\n\r\n",
        b"GET /a HTTP/1.1\r\n: no name\r\n\r\n",
        b"GET /a HTTP/1.1\r\nX: a\rb\r\n\r\n",
        b"GET /a HTTP/1.1\nX: y\n\n",
        b"GET /a HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        b"GET //a HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a HTTP/1.0\r\nHost: x\r\n\r\n",
        b"GET /a\r\n\r\n",
        b"GET /a HTTP/1.1\r\n" + b"X: y\r\n" * 98 + b"\r\n",
        b"GET /a HTTP/1.1\r\n" + b"X: y\r\n" * 99 + b"\r\n",
        b"GET /a HTTP/1.1\r\n" + b"X: y\r\n" * 100 + b"\r\n",
        b"GET /a HTTP/1.1\r\nX: " + b"y" * 65_600 + b"\r\n\r\n",
    ],
)
def test_request_headers_are_parsed_as_the_stdlib_parses_them(raw: bytes) -> None:
    """The host splits plain header blocks itself (the stdlib's email parser was a third of its
    time per request) and leaves the rest to the stdlib: the outcome must be the stdlib's."""
    assert _parsed(_Unserved(raw), _Handler.parse_request) == _parsed(
        _Unserved(raw), BaseHTTPRequestHandler.parse_request
    )


def test_a_plain_request_takes_the_plain_path() -> None:
    handler = _Unserved(b"GET /a HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\nrest")
    assert handler._parse_plain_request() is True
    assert (handler.headers.items(), handler.rfile.read()) == ([("Host", "x"), ("X-Tag", "one")], b"rest")
