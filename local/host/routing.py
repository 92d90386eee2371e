"""HTTP routing: the route table of an app's HTTP functions, matched as ASP.NET Core does, and the
dispatch of one request to its function."""

from __future__ import annotations

import functools
import hmac
import itertools
import json
import logging
import math
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import azure.functions as func

if TYPE_CHECKING:
    pass

from local.host.functions_index import (
    call_function,
    enum_text,
    find_host_json,
    read_route_prefix,
    registered_functions,
    trigger_of,
)
from shared.platform.results import result_object

log = logging.getLogger(__name__)


ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_FUNCTIONS_KEY = "local-dev-key"


# `{name}`, `{*name}`, `{name:int}`, `{name:minlength(3)?}`, `{name=default}` (ASP.NET Core syntax).
_PARAMETER = re.compile(
    r"\{(?P<star>\*{1,2})?(?P<name>[A-Za-z_]\w*)(?P<constraints>:[^{}]*?)?(?P<tail>\?|=[^{}]*)?\}"
)
_CONSTRAINT_NAME = re.compile(r":([A-Za-z]+)")
_ENFORCED = {"int": re.compile(r"-?[0-9]+"), "alpha": re.compile(r"[A-Za-z]+")}

# ASP.NET Core precedence of a template segment: lower is more specific and is tried first.
LITERAL, CONSTRAINED, PARAMETER, OPTIONAL, CATCH_ALL = range(5)


@dataclass(frozen=True)
class Segment:
    kind: int
    text: str  # literal text, or the parameter name
    constraints: tuple[str, ...] = ()
    default: str | None = None

    def matches(self, value: str) -> bool:
        """Whether the percent-decoded path segment `value` fits."""
        if self.kind == LITERAL:
            return value.lower() == self.text.lower()  # ASP.NET literals are case-insensitive
        if value == "":
            return False
        return all(_ENFORCED[name].fullmatch(value) for name in self.constraints if name in _ENFORCED)


@dataclass(frozen=True)
class Route:
    name: str
    template: str
    segments: tuple[Segment, ...]
    methods: frozenset[str]
    anonymous: bool
    function: Callable[..., Any]
    request_arg: str  # the trigger binding's name, which the worker passes the request as

    @property
    def catch_all(self) -> bool:
        return bool(self.segments) and self.segments[0].kind == CATCH_ALL

    @property
    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.kind for segment in self.segments)

    @functools.cached_property
    def lengths(self) -> tuple[int, float]:
        """The fewest and most path segments this template can match."""
        fewest = sum(1 for segment in self.segments if segment.kind not in (OPTIONAL, CATCH_ALL))
        most = len(self.segments) if all(segment.kind != CATCH_ALL for segment in self.segments) else math.inf
        return fewest, most

    def match(self, raw_segments: list[str], decoded: list[str] | None = None) -> dict[str, str] | None:
        """Route values (percent-decoded once) if the raw path segments fit this template;
        `decoded` is the same segments percent-decoded, when the caller already has them."""
        fewest, most = self.lengths
        if not fewest <= len(raw_segments) <= most:
            return None
        if decoded is None:
            decoded = [unquote(raw) for raw in raw_segments]
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == CATCH_ALL:
                rest = "/".join(raw_segments[index:])
                if rest:  # an empty catch-all has no route value, as in ASP.NET Core
                    params[segment.text] = unquote(rest)
                return params
            if index >= len(raw_segments):
                if segment.kind != OPTIONAL:
                    return None
                if segment.default is not None:
                    params[segment.text] = segment.default
                continue
            if not segment.matches(decoded[index]):
                return None
            if segment.kind != LITERAL:
                params[segment.text] = decoded[index]
        return params if len(raw_segments) <= len(self.segments) else None

    def accepts(self, method: str) -> str | None:
        """The method the function sees, or None; HEAD is served by GET functions, as in Functions."""
        if method in self.methods:
            return method
        if method == "HEAD" and "GET" in self.methods:
            return "GET"
        return None


def parse_segment(part: str) -> Segment:
    found = _PARAMETER.fullmatch(part)
    if found is None:
        if "{" in part or "}" in part:
            raise ValueError(f"route segment {part!r} is not supported by the local host")
        return Segment(LITERAL, part)
    constraints = tuple(name.lower() for name in _CONSTRAINT_NAME.findall(found["constraints"] or ""))
    tail = found["tail"] or ""
    default = tail[1:] if tail.startswith("=") else None
    if found["star"]:
        kind = CATCH_ALL
    elif tail:
        kind = OPTIONAL
    elif constraints:
        kind = CONSTRAINED
    else:
        kind = PARAMETER
    return Segment(kind, found["name"], constraints, default)


def parse_template(template: str) -> tuple[Segment, ...]:
    stripped = template.strip("/")
    segments = tuple(parse_segment(part) for part in stripped.split("/")) if stripped else ()
    for index, segment in enumerate(segments[:-1]):
        if segment.kind == CATCH_ALL:
            raise ValueError(f"route {template!r}: a catch-all parameter must be the last segment")
        if segment.kind == OPTIONAL and segments[index + 1].kind not in (OPTIONAL, CATCH_ALL):
            raise ValueError(f"route {template!r}: only optional parameters may follow an optional one")
    return segments


@dataclass(frozen=True)
class RouteIndex:
    """Positions in the route table by each template's leading literal segments (lowercased, as
    they match), with its segment count where that is fixed."""

    fixed: dict[tuple[tuple[str, ...], int], list[int]]
    variable: dict[tuple[str, ...], list[int]]
    depth: int  # the most leading literals of any template


def _leading_literals(route: Route) -> tuple[str, ...]:
    literals = itertools.takewhile(lambda segment: segment.kind == LITERAL, route.segments)
    return tuple(segment.text.lower() for segment in literals)


def _route_index(routes: list[Route]) -> RouteIndex:
    fixed: dict[tuple[tuple[str, ...], int], list[int]] = {}
    variable: dict[tuple[str, ...], list[int]] = {}
    depth = 0
    for position, route in enumerate(routes):
        key = _leading_literals(route)
        depth = max(depth, len(key))
        fewest, most = route.lengths
        if fewest == most:
            fixed.setdefault((key, fewest), []).append(position)
        else:
            variable.setdefault(key, []).append(position)
    return RouteIndex(fixed, variable, depth)


def _route_of(function: Any, trigger: Any) -> Route:
    template = trigger.route or function.get_function_name()  # Functions' default route is the name
    methods = trigger.methods or ALL_METHODS
    return Route(
        name=function.get_function_name(),
        template=template,
        segments=parse_template(template),
        methods=frozenset(enum_text(method).upper() for method in methods),
        # An unset level is Functions' default, FUNCTION, so it needs a key.
        anonymous=trigger.auth_level is not None and enum_text(trigger.auth_level).lower() == "anonymous",
        function=function.get_user_function(),
        request_arg=trigger.name,
    )


def error_response(status: int, code: str, text: str, correlation_id: str | None = None) -> func.HttpResponse:
    cid = correlation_id or str(uuid.uuid4())
    body = json.dumps(result_object(text, code, cid)).encode()
    # The header too, as the app's own refusals carry it: a client logs one place for every answer.
    headers = {"x-correlation-id": cid}
    return func.HttpResponse(body=body, status_code=status, headers=headers, mimetype="application/json")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class LocalFunctionsHost:
    """The routing table of a FunctionApp's HTTP functions, and the dispatch of one request."""

    def __init__(self, app: func.FunctionApp, route_prefix: str | None = None):
        self.routes: list[Route] = []
        self.non_http_functions: list[Any] = []
        for function in registered_functions(app):
            trigger = trigger_of(function, "httpTrigger")
            if trigger is None:
                self.non_http_functions.append(function)
            else:
                self.routes.append(_route_of(function, trigger))
        # Stable sort: among equally specific templates, registration order decides.
        self.routes.sort(key=lambda route: route.precedence)
        self._index = _route_index(self.routes)
        if route_prefix is None:
            route_prefix = read_route_prefix(find_host_json(app))
        self.route_prefix = route_prefix.strip("/")
        self.functions_key = os.environ.get("LOCAL_FUNCTIONS_KEY") or DEFAULT_FUNCTIONS_KEY

    def candidates(self, decoded: list[str]) -> list[Route]:
        """The routes that may match, in table order: those whose leading literals are the
        path's first segments and whose length fits (16 templates tried per request before)."""
        lowered = [segment.lower() for segment in decoded]
        found: list[int] = []
        for depth in range(min(len(lowered), self._index.depth) + 1):
            key = tuple(lowered[:depth])
            found += self._index.fixed.get((key, len(lowered)), ())
            found += self._index.variable.get(key, ())
        return [self.routes[position] for position in sorted(found)]

    def _raw_segments(self, path: str) -> list[str] | None:
        """The raw segments after the route prefix, or None when the path is outside it."""
        relative = path.strip("/")
        if self.route_prefix:
            prefix = self.route_prefix.lower()
            lowered = relative.lower()
            if lowered != prefix and not lowered.startswith(prefix + "/"):
                return None
            relative = relative[len(prefix) :].lstrip("/")
        return relative.split("/") if relative else []

    def _authorized(self, route: Route, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        if route.anonymous:
            return True
        key = self.functions_key
        return _same_secret(_header(headers, "x-functions-key"), key) or _same_secret(query.get("code"), key)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, origin: str
    ) -> func.HttpResponse:
        """Answer one request. `target` is the raw request-target (path?query), `origin` the
        scheme://host:port the client addressed; the function sees `origin + target` as its URL."""
        path, _, raw_query = target.partition("?")
        raw_segments = self._raw_segments(path)
        if raw_segments is None:
            return error_response(404, "NotFound", f"No function serves {path}")
        allowed: set[str] = set()
        # Decoded once here, not once per route tried.
        decoded = [unquote(raw) for raw in raw_segments]
        for route in self.candidates(decoded):
            params = route.match(raw_segments, decoded)
            if params is None:
                continue
            seen_method = route.accepts(method)
            if seen_method is None:
                # A method-bound catch-all (a CORS preflight route) does not make every path exist.
                if not route.catch_all:
                    allowed |= route.methods
                continue
            query = dict(parse_qsl(raw_query, keep_blank_values=True))  # last value wins
            if not self._authorized(route, headers, query):
                return error_response(401, "Unauthorized", "This function needs a function key")
            request = func.HttpRequest(
                method=seen_method,
                url=origin + target,
                headers=dict(headers),
                params=query,
                route_params=params,
                body=body,
            )
            return invoke(route, request)
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            response = error_response(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
            response.headers["Allow"] = ", ".join(sorted(allowed))
            return response
        return error_response(404, "NotFound", f"No function serves {path}")


def invoke(route: Route, request: func.HttpRequest) -> func.HttpResponse:
    """Call the user function as the worker does; any failure becomes a 500 without its details."""
    try:
        result = call_function(route.function, route.request_arg, request)
        if isinstance(result, str):  # the worker accepts a str return as a 200 body
            result = func.HttpResponse(result)
        if not isinstance(result, func.HttpResponse):
            raise TypeError(f"{route.name} returned {type(result).__name__}, not an HttpResponse")
        return result
    except Exception:
        cid = str(uuid.uuid4())
        log.exception("Function %s raised (correlationId %s)", route.name, cid)
        return error_response(500, "InternalServerError", "The function failed", cid)
