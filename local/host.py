"""A small stand-in for the Azure Functions host, for machines without Core Tools.

It serves the functions the app registered, exactly as registered: routes, methods and auth
levels come from `app.get_functions()` (called once), the route prefix from host.json. Requests
are matched on the raw, still percent-encoded path, as ASP.NET Core routing does, so an id
with `%2F` stays one segment.

    python -m local.host --port 7071 --app function_app:app
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func

from shared.errors import result_object

log = logging.getLogger("local.host")
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAM = re.compile(r"^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(\?)?(?::([A-Za-z]+))?\}$")
# ASP.NET Core precedence of a template segment: lower is more specific.
LITERAL, CONSTRAINED, PARAMETER, OPTIONAL, CATCH_ALL = range(5)


@dataclass(frozen=True)
class Segment:
    kind: int
    text: str  # literal text, or the parameter name
    constraint: str | None = None

    def matches(self, raw: str) -> bool:
        if self.kind == LITERAL:
            return unquote(raw).lower() == self.text.lower()
        value = unquote(raw)
        if self.constraint == "int":
            return value.lstrip("-").isdigit()
        if self.constraint == "alpha":
            return value.isalpha()
        return value != ""


@dataclass(frozen=True)
class Route:
    name: str
    template: str
    segments: tuple[Segment, ...]
    methods: frozenset[str]
    anonymous: bool
    function: Callable[..., Any]

    @property
    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.kind for segment in self.segments)

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == CATCH_ALL:
                rest = raw_segments[index:]
                params[segment.text] = unquote("/".join(rest))
                return params
            if index >= len(raw_segments):
                return params if segment.kind == OPTIONAL and index == len(self.segments) - 1 else None
            if not segment.matches(raw_segments[index]):
                return None
            if segment.kind != LITERAL:
                params[segment.text] = unquote(raw_segments[index])
        return params if len(raw_segments) == len(self.segments) else None


def parse_template(template: str) -> tuple[Segment, ...]:
    segments = []
    for part in template.strip("/").split("/"):
        found = _PARAM.match(part)
        if not found:
            segments.append(Segment(LITERAL, part))
            continue
        star, name, optional, constraint = found.groups()
        if star:
            kind = CATCH_ALL
        elif optional:
            kind = OPTIONAL
        elif constraint:
            kind = CONSTRAINED
        else:
            kind = PARAMETER
        segments.append(Segment(kind, name, constraint.lower() if constraint else None))
    return tuple(segments)


def read_route_prefix(app_module_file: str | None) -> str:
    directory = Path(app_module_file).resolve().parent if app_module_file else Path.cwd()
    host_json = directory / "host.json"
    if not host_json.exists():
        return "api"
    settings = json.loads(host_json.read_text(encoding="utf-8"))
    return settings.get("extensions", {}).get("http", {}).get("routePrefix", "api").strip("/")


class LocalFunctionsHost:
    def __init__(self, app: func.FunctionApp, route_prefix: str | None = None):
        self.routes: list[Route] = []
        self.non_http_functions: list[Any] = []
        for function in app.get_functions():  # once: a second call re-registers and raises
            trigger = next((b for b in function.get_bindings() if b.type == "httpTrigger"), None)
            if trigger is None:
                self.non_http_functions.append(function)
                continue
            methods = frozenset(str(getattr(m, "value", m)).upper() for m in (trigger.methods or ALL_METHODS))
            self.routes.append(
                Route(
                    name=function.get_function_name(),
                    template=trigger.route or function.get_function_name(),
                    segments=parse_template(trigger.route or function.get_function_name()),
                    methods=methods,
                    anonymous=str(getattr(trigger.auth_level, "value", trigger.auth_level)).lower()
                    == "anonymous",
                    function=function.get_user_function(),
                )
            )
        self.routes.sort(key=lambda route: route.precedence)
        if route_prefix is None:
            route_prefix = read_route_prefix(getattr(sys.modules.get(app.__module__), "__file__", None))
        self.route_prefix = route_prefix.strip("/")
        self.functions_key = os.environ.get("LOCAL_FUNCTIONS_KEY", "local-dev-key")

    def handle(self, method: str, raw_url: str, headers: dict[str, str], body: bytes) -> func.HttpResponse:
        parts = urlsplit(raw_url)
        path = parts.path.strip("/")
        prefix = self.route_prefix
        if prefix:
            if path != prefix and not path.startswith(prefix + "/"):
                return _error(404, "NotFound", f"No function serves {parts.path}")
            path = path[len(prefix) :].lstrip("/")
        raw_segments = path.split("/") if path else []
        allowed: set[str] = set()
        for route in self.routes:
            params = route.match(raw_segments)
            if params is None:
                continue
            wanted = "GET" if method == "HEAD" else method
            if wanted not in route.methods:
                allowed |= route.methods
                continue
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if not route.anonymous and self.functions_key not in (
                _header(headers, "x-functions-key"),
                query.get("code"),
            ):
                return _error(401, "Unauthorized", "This function needs a function key")
            request = func.HttpRequest(
                method=wanted, url=raw_url, headers=headers, params=query, route_params=params, body=body
            )
            return _call(route.function, request)
        if allowed:
            response = _error(405, "MethodNotAllowed", f"{method} is not allowed here")
            response.headers["Allow"] = ", ".join(sorted(allowed))
            return response
        return _error(404, "NotFound", f"No function serves {parts.path}")


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _error(status: int, code: str, text: str) -> func.HttpResponse:
    body = json.dumps(result_object(text, code, str(uuid.uuid4()))).encode()
    return func.HttpResponse(body=body, status_code=status, mimetype="application/json", charset="utf-8")


def _call(function: Callable[..., Any], request: func.HttpRequest) -> func.HttpResponse:
    try:
        result = function(request)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return result
    except Exception:
        log.exception("Function raised")
        return _error(500, "InternalServerError", "Internal server error")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without it, keep-alive responses wait ~40 ms on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    host: LocalFunctionsHost

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        server_host, server_port = self.server.server_address[:2]
        url = f"http://{self.headers.get('Host') or f'{server_host}:{server_port}'}{self.path}"
        headers = {key: value for key, value in self.headers.items()}
        response = self.host.handle(self.command, url, headers, body)
        payload = response.get_body() or b""
        if response.status_code in (204, 304) or self.command == "HEAD":
            length_header = str(len(payload)) if self.command == "HEAD" else "0"
            payload = b""
        else:
            length_header = str(len(payload))
        self.send_response(response.status_code)
        sent = {key.lower() for key, _ in response.headers.items()}
        for key, value in response.headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        if "content-type" not in sent and response.mimetype and response.status_code not in (204, 304):
            charset = f"; charset={response.charset}" if response.charset else ""
            self.send_header("Content-Type", f"{response.mimetype}{charset}")
        if response.status_code not in (204, 304):
            self.send_header("Content-Length", length_header)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve


def make_server(
    app: func.FunctionApp, host: str, port: int, route_prefix: str | None = None
) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"host": LocalFunctionsHost(app, route_prefix)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def start_in_thread(
    app: func.FunctionApp, host: str = "127.0.0.1", port: int = 0, route_prefix: str | None = None
) -> tuple[ThreadingHTTPServer, str]:
    server = make_server(app, host, port, route_prefix)
    threading.Thread(target=server.serve_forever, name="local-functions-host", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


def load_app(spec: str) -> func.FunctionApp:
    module_name, _, attribute = spec.partition(":")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    return getattr(importlib.import_module(module_name), attribute or "app")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a FunctionApp's HTTP functions locally")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=7071, type=int)
    parser.add_argument("--app", default="function_app:app")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = make_server(load_app(args.app), args.host, args.port)
    routes = server.RequestHandlerClass.host.routes  # type: ignore[attr-defined]
    print(f"Serving {len(routes)} functions at http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
