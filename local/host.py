"""A small stand-in for the Azure Functions host, for machines without Core Tools.

It serves the functions the app registered, exactly as registered: routes, methods and auth
levels come from `app.get_functions()` (called once), the route prefix from host.json. Requests
are matched on the raw, still percent-encoded path, as ASP.NET Core routing does, so an id
with `%2F` stays one segment.

Timer-triggered functions run on their NCRONTAB schedule (UTC, six fields: second minute hour
day month day-of-week), each in its own daemon thread, so a run never overlaps the previous run
of the same function; a run that overran its next occurrence is followed by one past-due run, as
in Functions. `--no-timers` turns them off (library callers opt in with `timers=True`).

    python -m local.host --host 127.0.0.1 --port 7071 --app function_app:app [--no-timers]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import calendar
import hmac
import importlib
import inspect
import json
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import azure.functions as func
from azure.functions.timer import TimerRequest

from shared.errors import result_object

log = logging.getLogger("local.host")

REPO = Path(__file__).resolve().parent.parent
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_FUNCTIONS_KEY = "local-dev-key"
# Statuses that never carry a body (RFC 9110 6.4.1); Kestrel sends no Content-Length for them.
BODILESS_STATUSES = frozenset({204, 304})

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

    def matches(self, raw: str) -> bool:
        value = unquote(raw)
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
    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.kind for segment in self.segments)

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        """Route values (percent-decoded once) if the raw path segments fit this template."""
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
            if not segment.matches(raw_segments[index]):
                return None
            if segment.kind != LITERAL:
                params[segment.text] = unquote(raw_segments[index])
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


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _route_of(function: Any, trigger: Any) -> Route:
    template = trigger.route or function.get_function_name()  # Functions' default route is the name
    methods = trigger.methods or ALL_METHODS
    return Route(
        name=function.get_function_name(),
        template=template,
        segments=parse_template(template),
        methods=frozenset(_enum_text(method).upper() for method in methods),
        # An unset level is Functions' default, FUNCTION, so it needs a key.
        anonymous=trigger.auth_level is not None and _enum_text(trigger.auth_level).lower() == "anonymous",
        function=function.get_user_function(),
        request_arg=trigger.name,
    )


def find_host_json(app: func.FunctionApp) -> Path | None:
    """The host.json next to a module holding `app` (`app.__module__` names the SDK's module).

    Modules that merely imported the app hold it too, so the first one with a host.json wins.
    """
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not any(value is app for value in list(vars(module).values())):
            continue
        host_json = Path(file).resolve().parent / "host.json"
        if host_json.exists():
            return host_json
    return None


def read_route_prefix(host_json: Path | None) -> str:
    """`extensions.http.routePrefix` of host.json; "api", Functions' default, without one."""
    if host_json is None:
        return DEFAULT_ROUTE_PREFIX
    settings = json.loads(host_json.read_text(encoding="utf-8"))
    prefix = settings.get("extensions", {}).get("http", {}).get("routePrefix", DEFAULT_ROUTE_PREFIX)
    return str(prefix).strip("/")


def error_response(status: int, code: str, text: str, correlation_id: str | None = None) -> func.HttpResponse:
    cid = correlation_id or str(uuid.uuid4())
    body = json.dumps(result_object(text, code, cid)).encode()
    return func.HttpResponse(body=body, status_code=status, mimetype="application/json")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class LocalFunctionsHost:
    """The routing table of a FunctionApp's HTTP functions, and the dispatch of one request."""

    def __init__(self, app: func.FunctionApp, route_prefix: str | None = None):
        self.routes: list[Route] = []
        self.non_http_functions: list[Any] = []
        self.timer_functions: list[TimerFunction] = []
        # Exactly once: azure-functions 1.26 registers the names again on a second call and raises.
        for function in app.get_functions():
            trigger = next((b for b in function.get_bindings() if b.type == "httpTrigger"), None)
            if trigger is None:
                self.non_http_functions.append(function)
                timer = next((b for b in function.get_bindings() if b.type == "timerTrigger"), None)
                if timer is not None:
                    self.timer_functions.append(_timer_of(function, timer))
            else:
                self.routes.append(_route_of(function, trigger))
        # Stable sort: among equally specific templates, registration order decides.
        self.routes.sort(key=lambda route: route.precedence)
        if route_prefix is None:
            route_prefix = read_route_prefix(find_host_json(app))
        self.route_prefix = route_prefix.strip("/")
        self.functions_key = os.environ.get("LOCAL_FUNCTIONS_KEY") or DEFAULT_FUNCTIONS_KEY

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
        for route in self.routes:
            params = route.match(raw_segments)
            if params is None:
                continue
            seen_method = route.accepts(method)
            if seen_method is None:
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
        result = route.function(**{route.request_arg: request})
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        if isinstance(result, str):  # the worker accepts a str return as a 200 body
            result = func.HttpResponse(result)
        if not isinstance(result, func.HttpResponse):
            raise TypeError(f"{route.name} returned {type(result).__name__}, not an HttpResponse")
        return result
    except Exception:
        cid = str(uuid.uuid4())
        log.exception("Function %s raised (correlationId %s)", route.name, cid)
        return error_response(500, "InternalServerError", "The function failed", cid)


# -- timers ------------------------------------------------------------------------------------

# NCRONTAB fields: name, smallest and largest value (day of week: 0 = Sunday, as in NCrontab).
CRON_FIELDS = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
)
# A day a schedule can name recurs within 28 years (the weekday and leap-year cycle), a little
# longer across a century without a leap day; a schedule with no day in 50 years never fires
# (e.g. February 30th).
CRON_HORIZON_YEARS = 50
_CRON_NUMBER = re.compile(r"[0-9]{1,2}")
_APP_SETTING = re.compile(r"%([A-Za-z_][A-Za-z0-9_.:-]*)%")
# A run starting this much after its occurrence is reported as past due.
PAST_DUE_AFTER = timedelta(milliseconds=250)
TIMER_STOP_WAIT = 5.0  # seconds `stop()` waits for a running timer function
TIMER_MAX_SLEEP = 30.0  # re-read the clock at least this often (the wall clock may jump)


def _cron_value(text: str, name: str, low: int, high: int, expression: str) -> int:
    if not _CRON_NUMBER.fullmatch(text):
        raise ValueError(
            f"schedule {expression!r}: {name} value {text!r} is not supported by the local host "
            "(use numbers, *, */n, a-b, a-b/n and comma lists)"
        )
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"schedule {expression!r}: {name} value {value} is outside {low}-{high}")
    return value


def _cron_field(text: str, name: str, low: int, high: int, expression: str) -> tuple[int, ...]:
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            step = _cron_value(step_text, f"{name} step", 1, high - low + 1, expression)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _cron_value(first, name, low, high, expression)
            end = _cron_value(last, name, low, high, expression)
            if start > end:
                raise ValueError(f"schedule {expression!r}: {name} range {base!r} runs backwards")
        elif slash:
            raise ValueError(f"schedule {expression!r}: {name} step {part!r} needs * or a range before the /")
        else:
            start = end = _cron_value(base, name, low, high, expression)
        values.update(range(start, end + 1, step))
    return tuple(sorted(values))


@dataclass(frozen=True)
class CronSchedule:
    """A six-field NCRONTAB schedule, evaluated in UTC.

    As in NCrontab (which Functions uses), a day must match both the day-of-month and the
    day-of-week field, unlike Vixie cron's either-or.
    """

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]

    def _day_matches(self, moment: datetime) -> bool:
        return moment.day in self.days and (moment.weekday() + 1) % 7 in self.weekdays

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment` (an aware datetime), in UTC."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        start = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        horizon = start.year + CRON_HORIZON_YEARS
        year, month = start.year, start.month
        first_day = start.day
        while year <= horizon:
            if month in self.months:
                for day in range(first_day, calendar.monthrange(year, month)[1] + 1):
                    candidate = datetime(year, month, day, tzinfo=UTC)
                    if not self._day_matches(candidate):
                        continue
                    floor = start if candidate.date() == start.date() else candidate
                    found = self._time_on(candidate, floor)
                    if found is not None:
                        return found
            first_day = 1
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise ValueError(f"schedule {self.expression!r} never fires")

    def _time_on(self, day: datetime, floor: datetime) -> datetime | None:
        """The first matching time on `day` at or after `floor` (same day), or None."""
        for hour in self.hours[bisect.bisect_left(self.hours, floor.hour) :]:
            minute_floor = floor.minute if hour == floor.hour else 0
            for minute in self.minutes[bisect.bisect_left(self.minutes, minute_floor) :]:
                second_floor = floor.second if (hour, minute) == (floor.hour, floor.minute) else 0
                index = bisect.bisect_left(self.seconds, second_floor)
                if index < len(self.seconds):
                    return day.replace(hour=hour, minute=minute, second=self.seconds[index])
        return None


def parse_ncrontab(expression: str) -> CronSchedule:
    """Parse a six-field NCRONTAB expression; anything this host does not support is refused
    with a ValueError saying what (names such as MON or JAN, `?`, `L`, `#`, TimeSpan schedules)."""
    fields = expression.split()
    if len(fields) == 1 and ":" in expression:
        raise ValueError(
            f"schedule {expression!r}: TimeSpan schedules are not supported by the local host; "
            "use a six-field NCRONTAB expression"
        )
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(
            f"schedule {expression!r} is not supported by the local host: it needs 6 NCRONTAB fields "
            "(second minute hour day month day-of-week)"
        )
    parsed = [
        _cron_field(text, name, low, high, expression)
        for text, (name, low, high) in zip(fields, CRON_FIELDS, strict=True)
    ]
    schedule = CronSchedule(expression, *parsed)
    schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC))  # refuse schedules that never fire
    return schedule


def resolve_schedule(schedule: str) -> str:
    """`%Name%` is an app setting holding the schedule, as in Functions."""
    found = _APP_SETTING.fullmatch(schedule.strip())
    if found is None:
        return schedule
    value = os.environ.get(found[1])
    if not value:
        raise ValueError(f"schedule {schedule!r} names the app setting {found[1]}, which is not set")
    return value


@dataclass(frozen=True)
class TimerFunction:
    name: str
    schedule: str
    run_on_startup: bool
    function: Callable[..., Any]
    arg_name: str  # the trigger binding's name, which the worker passes the TimerRequest as


def _timer_of(function: Any, trigger: Any) -> TimerFunction:
    return TimerFunction(
        name=function.get_function_name(),
        schedule=str(trigger.schedule),
        run_on_startup=bool(trigger.run_on_startup),
        function=function.get_user_function(),
        arg_name=trigger.name,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TimerRunner:
    """Runs timer functions on their schedules, one daemon thread per function."""

    def __init__(self, timers: list[TimerFunction]):
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.schedules: dict[str, CronSchedule] = {}
        self.timers = list(timers)
        for timer in self.timers:
            try:
                self.schedules[timer.name] = parse_ncrontab(resolve_schedule(timer.schedule))
            except ValueError as exc:
                raise ValueError(f"timer function {timer.name}: {exc}") from None
        self.runs: dict[str, int] = dict.fromkeys(self.schedules, 0)

    @staticmethod
    def _clock() -> datetime:
        return datetime.now(UTC)

    def start(self) -> None:
        for timer in self.timers:
            thread = threading.Thread(
                target=self._loop, args=(timer,), name=f"local-timer-{timer.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMER_STOP_WAIT)

    def _sleep_until(self, due: datetime) -> bool:
        """Wait for `due`; False when the runner is stopping."""
        while not self._stop.is_set():
            remaining = (due - self._clock()).total_seconds()
            if remaining <= 0:
                return True
            self._stop.wait(min(remaining, TIMER_MAX_SLEEP))
        return False

    def _loop(self, timer: TimerFunction) -> None:
        schedule = self.schedules[timer.name]
        if timer.run_on_startup:
            self._fire(timer, self._clock(), schedule, past_due=False)
        due = schedule.next_after(self._clock())
        catching_up = False
        while self._sleep_until(due):
            self._fire(timer, due, schedule, past_due=self._clock() - due > PAST_DUE_AFTER)
            now = self._clock()
            # An overrun skips the occurrences it covered; the first one skipped still runs, once
            # and past due, then the schedule continues from now (as the Functions host does).
            upcoming = schedule.next_after(now if catching_up else due)
            catching_up = upcoming <= now
            due = upcoming

    def _fire(self, timer: TimerFunction, due: datetime, schedule: CronSchedule, *, past_due: bool) -> None:
        request = TimerRequest(
            past_due=past_due,
            schedule_status={
                "Last": _iso(due),
                "Next": _iso(schedule.next_after(due)),
                "LastUpdated": _iso(self._clock()),
            },
            schedule={"AdjustForDST": False},
        )
        try:
            result = timer.function(**{timer.arg_name: request})
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception:
            log.exception("Timer function %s raised", timer.name)
        finally:
            self.runs[timer.name] += 1


def content_type(response: func.HttpResponse) -> str:
    """What the Python worker sends when the function set none: charset only for text/* types."""
    if response.mimetype.startswith("text/"):
        return f"{response.mimetype}; charset={response.charset}"
    return response.mimetype


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of the real host get
    # Without it, keep-alive responses wait ~45 ms on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    functions_host: LocalFunctionsHost

    def log_message(self, format: str, *args: Any) -> None:
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
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

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
        self.send_response(status)
        names = set()
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding"):  # framing is the host's job
                self.send_header(key, value)
                names.add(key.lower())
        if not bodiless:
            if "content-type" not in names:
                self.send_header("Content-Type", content_type(response))
            self.send_header("Content-Length", str(len(payload)))  # for HEAD: what GET would send
        self.end_headers()
        if payload and not bodiless and self.command != "HEAD":
            self.wfile.write(payload)

    def _serve(self) -> None:
        self._write(self._respond())

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    functions_host: LocalFunctionsHost
    timer_runner: TimerRunner | None = None

    def start_timers(self) -> None:
        if self.timer_runner is not None:
            self.timer_runner.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is routine, not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client %s went away", client_address)
        else:
            log.exception("error serving %s", client_address)

    def shutdown(self) -> None:
        """Stop serving and timers, and release the port (tests start and stop hosts on free ports)."""
        if self.timer_runner is not None:
            self.timer_runner.stop()
        super().shutdown()
        self.server_close()


def make_server(
    app: func.FunctionApp,
    host: str = "127.0.0.1",
    port: int = 0,
    route_prefix: str | None = None,
    *,
    timers: bool = False,
) -> LocalHTTPServer:
    """The server of `app`; with `timers`, its timer schedules are checked (ValueError when one is
    not supported) and `start_timers()` starts them."""
    functions_host = LocalFunctionsHost(app, route_prefix)
    runner = TimerRunner(functions_host.timer_functions) if timers else None
    handler = type("Handler", (_Handler,), {"functions_host": functions_host})
    server = LocalHTTPServer((host, port), handler)
    server.functions_host = functions_host
    server.timer_runner = runner
    return server


def start_in_thread(
    app: func.FunctionApp,
    host: str = "127.0.0.1",
    port: int = 0,
    route_prefix: str | None = None,
    *,
    timers: bool = False,
) -> tuple[LocalHTTPServer, str]:
    """Serve `app` from a daemon thread, and run its timers with `timers=True`; returns the
    server (`shutdown()` stops both) and base URL."""
    server = make_server(app, host, port, route_prefix, timers=timers)
    threading.Thread(target=server.serve_forever, name="local-functions-host", daemon=True).start()
    server.start_timers()
    return server, f"http://{host}:{server.server_address[1]}"


def load_app(spec: str) -> func.FunctionApp:
    """Import `module:attribute` (attribute defaults to `app`) with the repo root importable."""
    module_name, _, attribute = spec.partition(":")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return getattr(importlib.import_module(module_name), attribute or "app")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a FunctionApp's HTTP functions locally")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=7071, type=int)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--no-timers", action="store_true", help="do not run timer-triggered functions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The Azure SDKs log every HTTP exchange at INFO; that drowns the app's own messages.
    logging.getLogger("azure").setLevel(logging.WARNING)
    server = make_server(load_app(args.app), args.host, args.port, timers=not args.no_timers)
    functions_host = server.functions_host
    runner = server.timer_runner
    for function in functions_host.non_http_functions:
        name = function.get_function_name()
        if runner is not None and name in runner.schedules:
            log.info("timer %s: %s (UTC)", name, runner.schedules[name].expression)
        else:
            log.info("not served (no HTTP trigger%s): %s", ", timers off" if runner is None else "", name)
    prefix = f"/{functions_host.route_prefix}" if functions_host.route_prefix else ""
    url = f"http://{args.host}:{server.server_address[1]}{prefix}"
    print(f"Serving {len(functions_host.routes)} routes at {url}", flush=True)
    server.start_timers()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if runner is not None:
            runner.stop()
        server.server_close()


if __name__ == "__main__":
    main()
