"""A small stand-in for the Azure Functions host, for machines without Core Tools.

It serves the functions the app registered, exactly as registered: routes, methods and auth
levels come from `app.get_functions()` (called once), the route prefix from host.json. Requests
are matched on the raw, still percent-encoded path, as ASP.NET Core routing does, so an id
with `%2F` stays one segment.

Timer-triggered functions run on their NCRONTAB schedule (UTC, six fields: second minute hour
day month day-of-week), each in its own daemon thread, so a run never overlaps the previous run
of the same function; a run that overran its next occurrence is followed by one past-due run, as
in Functions. `--no-timers` turns them off (library callers opt in with `timers=True`).

Blob-triggered functions are delivered by LISTING their container: in Azure (Flex Consumption)
they use the Event Grid source, which Azurite does not have. A poller per trigger (every 2 s,
`--blob-poll-seconds`) lists `<container>/<literal prefix of the pattern>`, creating the container
if missing, and hands every matching blob this host process has not delivered yet, keyed by
(blob name, ETag), to the function as the Python worker does: an `azure.functions.blob.InputStream`
with the bytes, name `<container>/<blob>`, URI, length, metadata and properties. Route-like
parameters of the path (`{name}`) are not passed as arguments, only the stream. A failure is
logged and retried on later polls, 5 attempts in all (the host's maxDequeueCount); then the blob
is given up as poison until its ETag changes. A blob is never processed twice at once; up to two
blobs per trigger are processed concurrently in the background (`scan_once()`, for tests and
tools, delivers in the calling thread, one blob after the other).

Delivery is at least once, and more often than in Azure: blobs present when the host starts are
delivered (the real host's container scan does that, Event Grid does not), a restarted host
delivers everything again, and any new ETag (a re-upload, and also a metadata change) delivers
again. Blob-triggered functions must therefore be idempotent. `--no-blob-triggers` turns them
off (library callers opt in with `blob_triggers=True`).

    python -m local.host --host 127.0.0.1 --port 7071 --app function_app:app [--no-timers]
        [--no-blob-triggers] [--blob-poll-seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import calendar
import contextlib
import hmac
import importlib
import inspect
import json
import logging
import os
import queue
import re
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import azure.functions as func
from azure.functions.blob import InputStream
from azure.functions.timer import TimerRequest

from shared.errors import result_object

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

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


_REGISTERED: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()
_REGISTERED_LOCK = threading.Lock()


def registered_functions(app: func.FunctionApp) -> list[Any]:
    """`app.get_functions()`, called once per app and remembered: azure-functions 1.26 registers
    the names again on a second call and raises. Functions registered after the first call are
    not seen, as the real host indexes an app once at startup."""
    with _REGISTERED_LOCK:
        functions = _REGISTERED.get(app)
        if functions is None:
            functions = _REGISTERED[app] = list(app.get_functions())
        return functions


class LocalFunctionsHost:
    """The routing table of a FunctionApp's HTTP functions, and the dispatch of one request."""

    def __init__(self, app: func.FunctionApp, route_prefix: str | None = None):
        self.routes: list[Route] = []
        self.non_http_functions: list[Any] = []
        self.timer_functions: list[TimerFunction] = []
        self.blob_functions: list[BlobTriggerFunction] = []
        for function in registered_functions(app):
            trigger = next((b for b in function.get_bindings() if b.type == "httpTrigger"), None)
            if trigger is None:
                self.non_http_functions.append(function)
                timer = next((b for b in function.get_bindings() if b.type == "timerTrigger"), None)
                if timer is not None:
                    self.timer_functions.append(_timer_of(function, timer))
                blob = next((b for b in function.get_bindings() if b.type == "blobTrigger"), None)
                if blob is not None:
                    self.blob_functions.append(_blob_function_of(function, blob))
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


# -- blob triggers -----------------------------------------------------------------------------

DEFAULT_BLOB_POLL_SECONDS = 2.0
BLOB_WORKERS = 2  # blobs of one trigger processed at once by the background poller
BLOB_MAX_ATTEMPTS = 5  # the Functions host's maxDequeueCount default for blob triggers
DEFAULT_STORAGE_CONNECTION = "AzureWebJobsStorage"
BLOB_STOP_WAIT = 5.0  # seconds `stop()` waits, in all, for pollers and running blob functions
_BLOB_PARAMETER = re.compile(r"\{([A-Za-z_]\w*)\}")

SUCCEEDED, FAILED, POISONED = "succeeded", "failed", "poisoned"


@dataclass(frozen=True)
class BlobTriggerFunction:
    name: str
    path: str  # `<container>/<blob name pattern>`, as declared
    connection: str  # the app setting naming the storage account
    source: str | None  # EventGrid or LogsAndContainerScan in Azure; both are polled locally
    function: Callable[..., Any]
    arg_name: str  # the trigger binding's name, which the worker passes the InputStream as
    other_bindings: tuple[str, ...]  # bindings besides the trigger, which this host cannot supply


def _blob_function_of(function: Any, trigger: Any) -> BlobTriggerFunction:
    return BlobTriggerFunction(
        name=function.get_function_name(),
        path=str(trigger.path),
        connection=str(trigger.connection or ""),
        source=_enum_text(trigger.source) if trigger.source is not None else None,
        function=function.get_user_function(),
        arg_name=trigger.name,
        other_bindings=tuple(
            f"{binding.type} {binding.name}" for binding in function.get_bindings() if binding is not trigger
        ),
    )


@dataclass(frozen=True)
class BlobPath:
    """A blob trigger path: a literal container, and a blob name pattern in which `{name}` stands
    for any text (slashes included), `{{` and `}}` for literal braces, as in the WebJobs SDK."""

    container: str
    pattern: str
    prefix: str  # the pattern's literal text before its first parameter: what is listed
    regex: re.Pattern[str]

    def matches(self, blob_name: str) -> bool:
        return self.regex.fullmatch(blob_name) is not None


def parse_blob_path(path: str) -> BlobPath:
    container, slash, pattern = path.partition("/")
    if not slash or not container or not pattern:
        raise ValueError(f"blob path {path!r} needs the form <container>/<blob name pattern>")
    if "{" in container or "}" in container:
        raise ValueError(f"blob path {path!r}: a blob trigger's container name must be literal")
    regex: list[str] = []
    prefix: list[str] = []
    parameters: list[str] = []
    index = 0
    while index < len(pattern):
        pair = pattern[index : index + 2]
        if pair in ("{{", "}}"):
            char, index = pair[0], index + 2
        elif pattern[index] == "{":
            found = _BLOB_PARAMETER.match(pattern, index)
            if found is None:
                raise ValueError(
                    f"blob path {path!r}: only {{name}} parameters (and {{{{ }}}} for literal braces) "
                    "are supported in a blob trigger path"
                )
            if found[1] in parameters:
                raise ValueError(f"blob path {path!r}: parameter {{{found[1]}}} appears twice")
            parameters.append(found[1])
            regex.append("(.*)")
            index = found.end()
            continue
        elif pattern[index] == "}":
            raise ValueError(f"blob path {path!r}: a single }} must be written }}}}")
        else:
            char, index = pattern[index], index + 1
        regex.append(re.escape(char))
        if not parameters:
            prefix.append(char)
    return BlobPath(container, pattern, "".join(prefix), re.compile("".join(regex)))


@dataclass(frozen=True)
class StorageConnection:
    """Where a trigger's `connection` app setting points, resolved as Functions does: the setting
    itself, else `AzureWebJobs<name>`; its value is a connection string, or, for an identity,
    `<setting>__blobServiceUri` (or `__serviceUri`, with an optional `__clientId`)."""

    setting: str
    connection_string: str | None = None
    service_uri: str | None = None
    client_id: str | None = None

    def client(self) -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient

        if self.connection_string is not None:
            return BlobServiceClient.from_connection_string(self.connection_string)
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=self.client_id)
        return BlobServiceClient(str(self.service_uri), credential=credential)


def resolve_storage_connection(connection: str, env: Mapping[str, str]) -> StorageConnection:
    name = connection or DEFAULT_STORAGE_CONNECTION
    candidates = [name] if name.startswith("AzureWebJobs") else [name, f"AzureWebJobs{name}"]
    for setting in candidates:
        if env.get(setting):
            return StorageConnection(setting, connection_string=env[setting])
        uri = env.get(f"{setting}__blobServiceUri") or env.get(f"{setting}__serviceUri")
        if uri:
            return StorageConnection(setting, service_uri=uri, client_id=env.get(f"{setting}__clientId"))
    raise ValueError(
        f"the storage connection {name!r} is not configured: set the app setting {name} "
        f"(a connection string) or {name}__blobServiceUri"
    )


@dataclass(frozen=True)
class Delivery:
    """One call of a blob-triggered function (or a failure to read the blob for it)."""

    function: str
    blob: str  # `<container>/<blob name>`, the InputStream's name
    etag: str
    attempt: int  # 1 to BLOB_MAX_ATTEMPTS for this (blob name, ETag)
    outcome: str  # SUCCEEDED, FAILED (retried later) or POISONED (failed on its last attempt)


BlobKey = tuple[str, str]  # (blob name, ETag without quotes)


@dataclass(eq=False)
class BlobWatch:
    """One blob trigger at run time: where it looks, and what this host process has done."""

    function: BlobTriggerFunction
    path: BlobPath
    container: ContainerClient
    finished: set[BlobKey] = field(default_factory=set)  # delivered, or given up as poison
    attempts: dict[BlobKey, int] = field(default_factory=dict)  # failed attempts so far
    busy: set[str] = field(default_factory=set)  # blob names being delivered right now
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the three above
    scan_lock: threading.Lock = field(default_factory=threading.Lock)  # one listing at a time
    container_ready: bool = False
    scan_error: str | None = None  # the last listing failure the poller reported


def _iso_or_none(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def blob_properties(properties: Any) -> dict[str, Any]:
    """The blob's properties under the names the host sends the worker (.NET BlobProperties)."""
    settings = properties.content_settings
    md5 = settings.content_md5
    return {
        "BlobType": _enum_text(properties.blob_type),
        "ContentType": settings.content_type,
        "ContentLength": properties.size,
        "ContentEncoding": settings.content_encoding,
        "ContentLanguage": settings.content_language,
        "ContentDisposition": settings.content_disposition,
        "CacheControl": settings.cache_control,
        "ContentHash": base64.b64encode(bytes(md5)).decode() if md5 else None,
        "ETag": properties.etag,
        "LastModified": _iso_or_none(properties.last_modified),
        "CreatedOn": _iso_or_none(properties.creation_time),
    }


class _Workers:
    """A few daemon threads running queued deliveries: daemon, as the timers' threads, so a hung
    function cannot keep the process from exiting."""

    def __init__(self, size: int, name: str, stopping: threading.Event):
        self._jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._stopping = stopping
        self.threads = [
            threading.Thread(target=self._run, name=f"{name}-{number}", daemon=True) for number in range(size)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, job: Callable[[], object]) -> None:
        self._jobs.put(job)

    def close(self) -> None:
        for _ in self.threads:
            self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._stopping.is_set():
                continue  # queued deliveries are dropped at shutdown: the next host delivers them
            try:
                job()
            except Exception:
                log.exception("The local host failed delivering a blob")


class BlobTriggers:
    """The app's blob triggers, delivered by listing their containers (see the module docstring).

    Construction makes no network call. A trigger that cannot run (connection not configured,
    unsupported path or bindings) is logged and listed in `errors`, and the others run, as a
    function in error in Functions. `start()` starts one poller thread and BLOB_WORKERS delivery
    threads per trigger; `scan_once()` delivers in the calling thread instead. `deliveries` has
    every call in order, `scans` counts the listings done."""

    def __init__(
        self,
        functions: Sequence[BlobTriggerFunction],
        env: Mapping[str, str] | None = None,
        *,
        poll_seconds: float = DEFAULT_BLOB_POLL_SECONDS,
        workers: int = BLOB_WORKERS,
    ):
        if poll_seconds <= 0:
            raise ValueError(f"the blob poll interval must be positive, not {poll_seconds}")
        if workers < 1:
            raise ValueError(f"blob triggers need at least one worker, not {workers}")
        self.poll_seconds = poll_seconds
        self.workers = workers
        self.watches: list[BlobWatch] = []
        self.errors: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        self.scans = 0
        self._lock = threading.Lock()  # guards deliveries and scans
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pools: list[_Workers] = []
        clients: dict[StorageConnection, BlobServiceClient] = {}
        settings = os.environ if env is None else env
        for function in functions:
            try:
                if function.other_bindings:
                    raise ValueError(
                        f"its binding(s) {', '.join(function.other_bindings)} are not supported by "
                        "the local host, which passes only the trigger's InputStream"
                    )
                path = parse_blob_path(function.path)
                connection = resolve_storage_connection(function.connection, settings)
            except ValueError as exc:
                self.errors[function.name] = str(exc)
                log.error("The '%s' function is in error: %s", function.name, exc)
                continue
            if connection not in clients:
                clients[connection] = connection.client()
            container = clients[connection].get_container_client(path.container)
            self.watches.append(BlobWatch(function, path, container))

    @classmethod
    def from_app(
        cls, app: func.FunctionApp, env: Mapping[str, str] | None = None, **options: Any
    ) -> BlobTriggers:
        functions = registered_functions(app)
        found = [
            (function, next((b for b in function.get_bindings() if b.type == "blobTrigger"), None))
            for function in functions
        ]
        return cls(
            [_blob_function_of(f, trigger) for f, trigger in found if trigger is not None], env, **options
        )

    # -- listing and claiming

    def _claim(self, watch: BlobWatch) -> list[BlobKey]:
        """List the trigger's blobs and mark the pending ones busy; the caller delivers them."""
        from azure.core.exceptions import ResourceExistsError

        with watch.scan_lock:  # a listing older than another scan's must not prune its records
            if not watch.container_ready:
                with contextlib.suppress(ResourceExistsError):
                    watch.container.create_container()
                watch.container_ready = True
            listed = {
                (blob.name, blob.etag.strip('"'))
                for blob in watch.container.list_blobs(name_starts_with=watch.path.prefix or None)
                if watch.path.matches(blob.name)
            }
            with watch.lock:
                # Versions no longer listed can never come back (a new upload has a new ETag).
                watch.finished &= listed
                watch.attempts = {key: count for key, count in watch.attempts.items() if key in listed}
                claimed = [
                    key for key in sorted(listed) if key not in watch.finished and key[0] not in watch.busy
                ]
                watch.busy.update(name for name, _ in claimed)
            with self._lock:
                self.scans += 1
            return claimed

    def _release(self, watch: BlobWatch, keys: Sequence[BlobKey]) -> None:
        with watch.lock:
            watch.busy.difference_update(name for name, _ in keys)

    # -- delivery

    def _deliver(self, watch: BlobWatch, key: BlobKey) -> Delivery | None:
        """Call the function with the blob `key` (claimed by `_claim`) and record the outcome;
        None when the blob changed or went away since it was listed (the next scan sees it as
        it is now). Never raises for a failure of the function or of storage."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        name, etag = key
        blob = f"{watch.path.container}/{name}"
        trigger = watch.function
        try:
            error: Exception | None = None
            try:
                client = watch.container.get_blob_client(name)
                download = client.download_blob(
                    etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified
                )
                stream = InputStream(
                    data=download.readall(),
                    name=blob,
                    uri=client.url,
                    length=download.properties.size,
                    metadata=dict(download.properties.metadata or {}),
                    blob_properties=blob_properties(download.properties),
                )
            except (ResourceModifiedError, ResourceNotFoundError):
                log.debug("Blob %s changed or went away before %s got it", blob, trigger.name)
                return None
            except Exception as exc:  # counts as a failed attempt, as a binding failure in Functions
                error = exc
            else:
                try:
                    result = trigger.function(**{trigger.arg_name: stream})
                    if inspect.iscoroutine(result):
                        asyncio.run(result)
                except Exception as exc:
                    error = exc
            return self._record(watch, key, blob, error)
        finally:
            self._release(watch, [key])

    def _record(self, watch: BlobWatch, key: BlobKey, blob: str, error: Exception | None) -> Delivery:
        with watch.lock:
            attempt = watch.attempts.pop(key, 0) + 1
            if error is None:
                outcome = SUCCEEDED
                watch.finished.add(key)
            elif attempt >= BLOB_MAX_ATTEMPTS:
                outcome = POISONED
                watch.finished.add(key)  # given up until the blob changes (a new ETag)
            else:
                outcome = FAILED
                watch.attempts[key] = attempt
        delivery = Delivery(watch.function.name, blob, key[1], attempt, outcome)
        with self._lock:
            self.deliveries.append(delivery)
        name = watch.function.name
        if outcome == SUCCEEDED:
            log.info("Blob trigger %s processed %s (attempt %d)", name, blob, attempt)
        elif outcome == FAILED:
            log.error(
                "Blob trigger %s failed on %s (attempt %d of %d); retried on a later poll",
                name,
                blob,
                attempt,
                BLOB_MAX_ATTEMPTS,
                exc_info=error,
            )
        else:
            log.error(
                "Blob trigger %s failed on %s %d times: poison blob, given up until it changes (ETag %s)",
                name,
                blob,
                attempt,
                key[1],
                exc_info=error,
            )
        return delivery

    # -- entry points

    def scan_once(self) -> list[str]:
        """List every trigger's container and deliver each pending blob in the calling thread, one
        after the other; returns the blobs (`<container>/<name>`) whose function succeeded. A
        failing function is recorded (see `deliveries`), not raised; a listing failure is raised.
        Blobs the background poller is delivering right now are skipped."""
        succeeded: list[str] = []
        for watch in self.watches:
            claimed = self._claim(watch)
            for index, key in enumerate(claimed):
                try:
                    delivery = self._deliver(watch, key)
                except BaseException:
                    self._release(watch, claimed[index + 1 :])
                    raise
                if delivery is not None and delivery.outcome == SUCCEEDED:
                    succeeded.append(delivery.blob)
        return succeeded

    def start(self) -> None:
        """Poll in the background (once; `stop()` ends it for good)."""
        if self._threads or self._stop.is_set():
            return
        for watch in self.watches:
            name = f"local-blob-{watch.function.name}"
            pool = _Workers(self.workers, name, self._stop)
            self._pools.append(pool)
            thread = threading.Thread(target=self._poll, args=(watch, pool), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for pool in self._pools:
            pool.close()
        deadline = time.monotonic() + BLOB_STOP_WAIT
        for thread in self._threads + [t for pool in self._pools for t in pool.threads]:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _poll(self, watch: BlobWatch, pool: _Workers) -> None:
        while not self._stop.is_set():
            try:
                claimed = self._claim(watch)
            except Exception as exc:
                # Once per distinct failure, not every poll (e.g. while Azurite is down).
                if str(exc) != watch.scan_error:
                    log.warning(
                        "Blob trigger %s cannot list %s: %s", watch.function.name, watch.path.container, exc
                    )
                    watch.scan_error = str(exc)
            else:
                if watch.scan_error is not None:
                    log.info("Blob trigger %s lists %s again", watch.function.name, watch.path.container)
                    watch.scan_error = None
                for key in claimed:
                    pool.submit(lambda key=key: self._deliver(watch, key))
            self._stop.wait(self.poll_seconds)


def deliver_new_blobs(app: func.FunctionApp, env: Mapping[str, str] | None = None) -> list[str]:
    """One scan of every blob trigger of `app`, in the calling thread, by a fresh registry: every
    blob matching a trigger is new to it, so each is delivered (once, however its function fares).
    Returns the blobs whose function succeeded; raises ValueError if a blob trigger cannot run.
    `env` holds the app settings (default: os.environ)."""
    triggers = BlobTriggers.from_app(app, env)
    if triggers.errors:
        raise ValueError("; ".join(f"{name}: {why}" for name, why in triggers.errors.items()))
    return triggers.scan_once()


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
    blob_triggers: BlobTriggers | None = None

    def start_timers(self) -> None:
        if self.timer_runner is not None:
            self.timer_runner.start()

    def start_blob_triggers(self) -> None:
        if self.blob_triggers is not None:
            self.blob_triggers.start()

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
) -> LocalHTTPServer:
    """The server of `app`; with `timers`, its timer schedules are checked (ValueError when one is
    not supported) and `start_timers()` starts them. With `blob_triggers`, `server.blob_triggers`
    watches the blob triggers (connections from os.environ; a trigger that cannot run is in its
    `errors`); `start_blob_triggers()` starts polling, `server.blob_triggers.scan_once()` delivers
    synchronously instead."""
    functions_host = LocalFunctionsHost(app, route_prefix)
    runner = TimerRunner(functions_host.timer_functions) if timers else None
    blobs = (
        BlobTriggers(functions_host.blob_functions, poll_seconds=blob_poll_seconds) if blob_triggers else None
    )
    handler = type("Handler", (_Handler,), {"functions_host": functions_host})
    server = LocalHTTPServer((host, port), handler)
    server.functions_host = functions_host
    server.timer_runner = runner
    server.blob_triggers = blobs
    return server


def start_in_thread(
    app: func.FunctionApp,
    host: str = "127.0.0.1",
    port: int = 0,
    route_prefix: str | None = None,
    *,
    timers: bool = False,
    blob_triggers: bool = False,
    blob_poll_seconds: float = DEFAULT_BLOB_POLL_SECONDS,
) -> tuple[LocalHTTPServer, str]:
    """Serve `app` from a daemon thread, run its timers with `timers=True` and poll its blob
    triggers with `blob_triggers=True`; returns the server (`shutdown()` stops all) and base URL."""
    server = make_server(
        app,
        host,
        port,
        route_prefix,
        timers=timers,
        blob_triggers=blob_triggers,
        blob_poll_seconds=blob_poll_seconds,
    )
    threading.Thread(target=server.serve_forever, name="local-functions-host", daemon=True).start()
    server.start_timers()
    server.start_blob_triggers()
    return server, f"http://{host}:{server.server_address[1]}"


def load_app(spec: str) -> func.FunctionApp:
    """Import `module:attribute` (attribute defaults to `app`) with the repo root importable."""
    module_name, _, attribute = spec.partition(":")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return getattr(importlib.import_module(module_name), attribute or "app")


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def cli_server(argv: list[str] | None = None) -> LocalHTTPServer:
    """The server `python -m local.host` runs, built from its arguments (not yet serving)."""
    parser = argparse.ArgumentParser(description="Serve a FunctionApp's functions locally")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=7071, type=int)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--no-timers", action="store_true", help="do not run timer-triggered functions")
    parser.add_argument(
        "--no-blob-triggers", action="store_true", help="do not poll for blob-triggered functions"
    )
    parser.add_argument(
        "--blob-poll-seconds",
        default=DEFAULT_BLOB_POLL_SECONDS,
        type=_positive_seconds,
        help=f"how often blob triggers list their containers (default {DEFAULT_BLOB_POLL_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    return make_server(
        load_app(args.app),
        args.host,
        args.port,
        timers=not args.no_timers,
        blob_triggers=not args.no_blob_triggers,
        blob_poll_seconds=args.blob_poll_seconds,
    )


def _describe(server: LocalHTTPServer, function: Any) -> None:
    name = function.get_function_name()
    runner, blobs = server.timer_runner, server.blob_triggers
    types = {binding.type for binding in function.get_bindings()}
    if runner is not None and name in runner.schedules:
        log.info("timer %s: %s (UTC)", name, runner.schedules[name].expression)
    elif blobs is not None and "blobTrigger" in types:
        watch = next((w for w in blobs.watches if w.function.name == name), None)
        if watch is not None:  # else it is in error, which was logged
            log.info(
                "blob trigger %s: %s/%s (source %s, listed every %g s)",
                name,
                watch.path.container,
                watch.path.pattern,
                watch.function.source or "LogsAndContainerScan",
                blobs.poll_seconds,
            )
    else:
        why = {"timerTrigger": ", timers off", "blobTrigger": ", blob triggers off"}
        off = "".join(why.get(kind, "") for kind in sorted(types))
        log.info("not served (no HTTP trigger%s): %s", off, name)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The Azure SDKs log every HTTP exchange at INFO; that drowns the app's own messages.
    logging.getLogger("azure").setLevel(logging.WARNING)
    server = cli_server(argv)
    functions_host = server.functions_host
    for function in functions_host.non_http_functions:
        _describe(server, function)
    prefix = f"/{functions_host.route_prefix}" if functions_host.route_prefix else ""
    host, port = server.server_address[:2]
    print(f"Serving {len(functions_host.routes)} routes at http://{host}:{port}{prefix}", flush=True)
    server.start_timers()
    server.start_blob_triggers()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop_triggers()
        server.server_close()


if __name__ == "__main__":
    main()
