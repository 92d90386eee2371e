"""The local Functions host (local/host.py), over real HTTP, against a toy FunctionApp."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests

from local.host.routing import LocalFunctionsHost, parse_template
from local.host.server import LocalHTTPServer, start_in_thread

REPO = Path(__file__).resolve().parents[3]
KEY = "test-functions-key-5d1c"
ANONYMOUS = func.AuthLevel.ANONYMOUS
RAW_ID = "urn%3Ax%2Fy%23z%3Fw"
SECRET_DETAIL = "boom-detail-7f3a"


class CountingApp(func.FunctionApp):
    """Counts get_functions calls: a second call raises in azure-functions 1.26."""

    def __init__(self) -> None:
        super().__init__(http_auth_level=ANONYMOUS)
        self.get_functions_calls = 0

    def get_functions(self) -> list[Any]:
        self.get_functions_calls += 1
        return super().get_functions()


def echo(req: func.HttpRequest, **extra: Any) -> func.HttpResponse:
    body = {
        "method": req.method,
        "url": req.url,
        "route": dict(req.route_params),
        "params": dict(req.params),
        "tag": req.headers.get("x-tag"),
        **extra,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json", headers={"X-Echo": "1"})


def build_app() -> CountingApp:
    bp = func.Blueprint()

    # Registered before the literal `search` route, so only precedence can make `search` win.
    @bp.route(route="v1/items/{id}", methods=["GET"], auth_level=ANONYMOUS)
    def read_item(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="read_item")

    @bp.route(route="v1/items/{id}", methods=["DELETE"], auth_level=ANONYMOUS)
    def delete_item(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("a 204 must not carry this", status_code=204)

    @bp.route(route="v1/items/search", methods=["GET"], auth_level=ANONYMOUS)
    def search_items(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="search_items")

    @bp.route(route="v1/items/{id}/parts/{*path}", methods=["GET"], auth_level=ANONYMOUS)
    def read_part(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="read_part")

    @bp.route(route="v1/items", methods=["POST"], auth_level=ANONYMOUS)
    def create_item(req: func.HttpRequest) -> func.HttpResponse:
        document = req.get_json()
        headers = {"Location": f"/api/v1/items/{document['id']}", "ETag": '"v1"'}
        return func.HttpResponse(
            json.dumps({"received": document, "contentType": req.headers.get("content-type")}),
            status_code=201,
            mimetype="application/json",
            headers=headers,
        )

    @bp.route(route="v1/numbers/{n:int}", methods=["GET"], auth_level=ANONYMOUS)
    def read_number(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="read_number")

    @bp.route(route="v1/async/{id}", methods=["GET"], auth_level=ANONYMOUS)
    async def read_async(req: func.HttpRequest) -> func.HttpResponse:
        await asyncio.sleep(0)
        return echo(req, handler="read_async")

    @bp.route(route="v1/secret", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
    def read_secret(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("secret plans")

    @bp.route(route="v1/boom", methods=["GET"], auth_level=ANONYMOUS)
    def explode(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError(SECRET_DETAIL)

    @bp.route(route="v1/cached", methods=["GET"], auth_level=ANONYMOUS)
    def cached(req: func.HttpRequest) -> func.HttpResponse:
        if req.headers.get("if-none-match") == '"v7"':
            return func.HttpResponse("not for a 304", status_code=304, headers={"ETag": '"v7"'})
        return func.HttpResponse("fresh", headers={"ETag": '"v7"', "Content-Length": "999"})

    @bp.timer_trigger(schedule="0 0 * * * *", arg_name="timer", run_on_startup=False)
    def hourly(timer: func.TimerRequest) -> None:
        return None

    app = CountingApp()
    app.register_functions(bp)
    return app


HTTP_FUNCTIONS = 10


@dataclass
class Served:
    app: CountingApp
    server: LocalHTTPServer
    base: str  # with the /api prefix
    port: int


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_FUNCTIONS_KEY", KEY)  # read when the host is built
        app = build_app()
        server, base = start_in_thread(app)
    yield Served(app, server, f"{base}/api", server.server_address[1])
    server.shutdown()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http_session:
        yield http_session


def result_message(response: requests.Response) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/json"
    messages = response.json()["messages"]
    assert len(messages) == 1
    assert messages[0]["messageType"] == "Error"
    assert messages[0]["correlationId"]
    return messages[0]


def test_routes_come_from_one_get_functions_call(served: Served, session: requests.Session) -> None:
    assert session.get(f"{served.base}/v1/items/a").status_code == 200
    assert session.get(f"{served.base}/v1/items/search").status_code == 200
    host = served.server.functions_host
    assert served.app.get_functions_calls == 1
    assert len(host.routes) == HTTP_FUNCTIONS
    assert [f.get_function_name() for f in host.non_http_functions] == ["hourly"]
    assert host.route_prefix == "api"  # no host.json next to a module holding this app


def test_route_params_are_decoded_once_and_url_stays_raw(served: Served, session: requests.Session) -> None:
    url = f"{served.base}/v1/items/{RAW_ID}?x=1&x=2&y=a%20b&empty="
    response = session.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["handler"] == "read_item"
    assert body["route"] == {"id": "urn:x/y#z?w"}
    assert body["url"] == url
    assert body["params"] == {"x": "2", "y": "a b", "empty": ""}
    assert body["method"] == "GET"


def test_catch_all_takes_the_rest_of_the_path(served: Served, session: requests.Session) -> None:
    response = session.get(f"{served.base}/v1/items/{RAW_ID}/parts/a/b%2Fc/d%20e")
    assert response.json()["handler"] == "read_part"
    assert response.json()["route"] == {"id": "urn:x/y#z?w", "path": "a/b/c/d e"}
    empty = session.get(f"{served.base}/v1/items/abc/parts")
    assert empty.json()["handler"] == "read_part"
    assert empty.json()["route"] == {"id": "abc"}


def test_literal_segment_beats_parameter(served: Served, session: requests.Session) -> None:
    assert session.get(f"{served.base}/v1/items/search").json()["handler"] == "search_items"
    assert session.get(f"{served.base}/v1/items/SEARCH").json()["handler"] == "search_items"
    other = session.get(f"{served.base}/v1/items/search2").json()
    assert (other["handler"], other["route"]) == ("read_item", {"id": "search2"})


def test_int_constraint_is_enforced(served: Served, session: requests.Session) -> None:
    assert session.get(f"{served.base}/v1/numbers/-12").json()["route"] == {"n": "-12"}
    assert session.get(f"{served.base}/v1/numbers/twelve").status_code == 404


def test_wrong_method_is_405_with_allow_and_result_body(served: Served, session: requests.Session) -> None:
    response = session.put(f"{served.base}/v1/items/abc", data=b"{}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD"
    assert result_message(response)["code"] == "MethodNotAllowed"
    post_only = session.get(f"{served.base}/v1/items")
    assert (post_only.status_code, post_only.headers["Allow"]) == (405, "POST")


def test_unknown_path_is_404_result(served: Served, session: requests.Session) -> None:
    for url in (f"{served.base}/v1/nothing/here", f"{served.base[: -len('/api')]}/v1/items/abc"):
        response = session.get(url)
        assert response.status_code == 404, url
        assert result_message(response)["code"] == "NotFound"
    assert session.get(f"{served.base}/hourly").status_code == 404  # timer functions are not routed


def test_function_level_route_needs_the_key(served: Served, session: requests.Session) -> None:
    url = f"{served.base}/v1/secret"
    missing = session.get(url)
    assert missing.status_code == 401
    assert result_message(missing)["code"] == "Unauthorized"
    assert session.get(url, headers={"x-functions-key": "wrong"}).status_code == 401
    with_header = session.get(url, headers={"x-functions-key": KEY})
    assert (with_header.status_code, with_header.text) == (200, "secret plans")
    assert session.get(url, params={"code": KEY}).status_code == 200


def test_failure_is_500_without_details_and_logged(
    served: Served, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="local.host"):
        response = session.get(f"{served.base}/v1/boom")
    assert response.status_code == 500
    message = result_message(response)
    assert message["code"] == "InternalServerError"
    for leak in (SECRET_DETAIL, "Traceback", "RuntimeError", "test_local_host.py"):
        assert leak not in response.text
    logged = [r for r in caplog.records if r.exc_info and SECRET_DETAIL in str(r.exc_info[1])]
    assert len(logged) == 1
    assert message["correlationId"] in logged[0].getMessage()


def test_response_status_headers_and_body_pass_through(served: Served, session: requests.Session) -> None:
    response = session.post(f"{served.base}/v1/items", json={"id": "p-1", "n": 3})
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/items/p-1"
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.json() == {"received": {"id": "p-1", "n": 3}, "contentType": "application/json"}
    text = session.get(f"{served.base}/v1/secret", params={"code": KEY})
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_async_function_is_awaited(served: Served, session: requests.Session) -> None:
    response = session.get(f"{served.base}/v1/async/x1")
    assert response.status_code == 200
    assert response.json()["handler"] == "read_async"
    assert response.json()["route"] == {"id": "x1"}


def test_head_answers_like_get_without_body(served: Served, session: requests.Session) -> None:
    url = f"{served.base}/v1/items/abc"
    get = session.get(url)
    head = session.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(get.content))
    assert head.headers["X-Echo"] == "1"


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


def test_route_prefix_comes_from_host_json_next_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": "/custom/"}}}))
    (tmp_path / "prefixed_toy_app.py").write_text(
        textwrap.dedent(
            """
            import azure.functions as func

            app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

            @app.route(route="ping", methods=["GET"])
            def ping(req: func.HttpRequest) -> func.HttpResponse:
                return func.HttpResponse("pong")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "prefixed_toy_app", raising=False)
    from prefixed_toy_app import app  # type: ignore[import-not-found]

    host = LocalFunctionsHost(app)
    assert host.route_prefix == "custom"
    assert host.handle("GET", "/custom/ping", {}, b"", "http://h").get_body() == b"pong"
    assert host.handle("GET", "/api/ping", {}, b"", "http://h").status_code == 404
    monkeypatch.delitem(sys.modules, "prefixed_toy_app")


def test_explicit_empty_prefix_and_default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_FUNCTIONS_KEY", raising=False)
    host = LocalFunctionsHost(build_app(), route_prefix="")
    assert host.functions_key == "local-dev-key"
    assert host.handle("GET", "/v1/secret?code=local-dev-key", {}, b"", "http://h").status_code == 200
    response = host.handle("GET", "/v1/items/a%2Fb", {}, b"", "http://h:1")
    assert json.loads(response.get_body())["url"] == "http://h:1/v1/items/a%2Fb"


def test_template_syntax_errors_are_reported() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        parse_template("v1/{*rest}/tail")
    with pytest.raises(ValueError, match="optional"):
        parse_template("v1/{id?}/tail")
    with pytest.raises(ValueError, match="not supported"):
        parse_template("v1/file.{ext}")


def test_cli_serves_the_project_app(tmp_path: Path) -> None:
    """`python -m local.host` with the real function_app: host.json prefix, 405 and 404 bodies."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.host", "--port", "0", "--app", "function_app:app"],
        cwd=tmp_path,  # the app module must be found through the repo root, not the working directory
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(r"Serving (\d+) routes at (http://127\.0\.0\.1:\d+/api)\n", line)
        assert found, line
        assert int(found[1]) > 0
        base = found[2]
        wrong_method = requests.get(f"{base}/v1/dpps", timeout=10)
        assert (wrong_method.status_code, wrong_method.headers["Allow"]) == (405, "POST")
        assert requests.get(f"{base}/no/such/route", timeout=10).json()["messages"][0]["code"] == "NotFound"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
