"""Timer triggers in the local Functions host: the NCRONTAB parser, and timers that really run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import azure.functions as func
import pytest
import requests

from local.host.server import make_server, start_in_thread
from local.host.timers import parse_ncrontab

REPO = Path(__file__).resolve().parents[3]
DEADLINE = 30.0  # generous: a wait for something that should happen within a second or two


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def occurrences(expression: str, start: datetime, count: int) -> list[datetime]:
    schedule = parse_ncrontab(expression)
    found = []
    for _ in range(count):
        start = schedule.next_after(start)
        found.append(start)
    return found


# 2026-03-06 is a Friday; 2026-03-09 a Monday; 2026, 2027 and 2028 have Fridays the 13th in
# March and November, in August, and in October respectively.
@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("*/15 * * * * *", utc(2026, 3, 6, 10, 0, 7), [utc(2026, 3, 6, 10, 0, s) for s in (15, 30, 45)]),
        # Strictly after: an occurrence at the start itself is not returned.
        ("0 */1 * * * *", utc(2026, 3, 6, 10, 0, 0), [utc(2026, 3, 6, 10, m, 0) for m in (1, 2, 3)]),
        (
            "0 */1 * * * *",
            utc(2026, 12, 31, 23, 59, 30),
            [utc(2027, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 1, 0)],
        ),
        (
            "0 30 9 * * 1-5",
            utc(2026, 3, 6, 10, 0, 0),
            [utc(2026, 3, 9, 9, 30), utc(2026, 3, 10, 9, 30), utc(2026, 3, 11, 9, 30)],
        ),
        (
            "5,10 0-1 * * * *",
            utc(2026, 3, 6, 10, 0, 7),
            [utc(2026, 3, 6, 10, 0, 10), utc(2026, 3, 6, 10, 1, 5)],
        ),
        ("0 10-20/5 8 * * *", utc(2026, 3, 6, 10, 0), [utc(2026, 3, 7, 8, m) for m in (10, 15, 20)]),
        ("0 0 0 31 * *", utc(2026, 3, 6), [utc(2026, 3, 31), utc(2026, 5, 31), utc(2026, 7, 31)]),
        ("0 0 0 29 2 *", utc(2026, 3, 6), [utc(2028, 2, 29), utc(2032, 2, 29)]),
        # Day of month AND day of week, as in NCrontab: Fridays the 13th only.
        (
            "0 0 12 13 * 5",
            utc(2026, 1, 1),
            [utc(2026, 2, 13, 12), utc(2026, 3, 13, 12), utc(2026, 11, 13, 12), utc(2027, 8, 13, 12)],
        ),
        ("0 0 0 * * 0", utc(2026, 3, 6, 12), [utc(2026, 3, 8), utc(2026, 3, 15)]),
    ],
)
def test_next_occurrences(expression: str, start: datetime, expected: list[datetime]) -> None:
    assert occurrences(expression, start, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("* * * * *", "6 NCRONTAB fields"),
        ("0 * * * * * *", "6 NCRONTAB fields"),
        ("00:05:00", "TimeSpan"),
        ("0 0 9 * * MON", "'MON' is not supported"),
        ("0 0 9 * JAN *", "'JAN' is not supported"),
        ("0 0 9 ? * *", "'?' is not supported"),
        ("0 0 9 L * *", "'L' is not supported"),
        ("0 0 9 * * 5#3", "not supported"),
        ("60 * * * * *", "outside 0-59"),
        ("0 0 24 * * *", "outside 0-23"),
        ("0 0 0 0 * *", "outside 1-31"),
        ("0 0 0 * * 7", "outside 0-6"),
        ("*/0 * * * * *", "outside"),
        ("5/10 * * * * *", "needs * or a range"),
        ("0 30-10 * * * *", "backwards"),
        ("0 0 0 30 2 *", "never fires"),
    ],
)
def test_unsupported_schedules_are_refused(expression: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse_ncrontab(expression)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


class TimerApp:
    """A tiny app: one HTTP function, a timer every second that records its calls, a slow one
    that overruns its schedule, and one that always raises."""

    def __init__(self) -> None:
        self.ticks: list[func.TimerRequest] = []
        self.slow_runs: list[bool] = []  # past_due of each run
        self.running = 0
        self.most_at_once = 0
        self.failures = 0
        self.lock = threading.Lock()
        self.app = self._build()

    def _build(self) -> func.FunctionApp:
        app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

        @app.route(route="ping", methods=["GET"])
        def ping(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("pong")

        @app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer", run_on_startup=False)
        def every_second(timer: func.TimerRequest) -> None:
            with self.lock:
                self.ticks.append(timer)

        @app.timer_trigger(schedule="*/1 * * * * *", arg_name="slow", run_on_startup=False)
        async def slow(slow: func.TimerRequest) -> None:  # async functions are awaited too
            with self.lock:
                self.running += 1
                self.most_at_once = max(self.most_at_once, self.running)
            time.sleep(1.6)  # longer than the interval: the next occurrence is overrun
            with self.lock:
                self.running -= 1
                self.slow_runs.append(slow.past_due)

        @app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer", run_on_startup=False)
        def broken(timer: func.TimerRequest) -> None:
            with self.lock:
                self.failures += 1
            raise RuntimeError("timer failure the host must survive")

        return app


def test_local_host_runs_timers_without_overlap_and_survives_failures() -> None:
    subject = TimerApp()
    server, base = start_in_thread(subject.app, timers=True)
    try:
        wait_for(lambda: len(subject.ticks) >= 2, "two runs of the every-second timer")
        wait_for(lambda: subject.failures >= 2, "the failing timer to run again after raising")
        wait_for(lambda: len(subject.slow_runs) >= 3, "three runs of the slow timer")
        assert all(isinstance(tick, func.TimerRequest) for tick in subject.ticks)
        assert all(isinstance(tick.past_due, bool) for tick in subject.ticks)
        assert {"Last", "Next"} <= set(subject.ticks[0].schedule_status)
        assert subject.most_at_once == 1  # never overlapping with itself
        # An overrun is followed by one past-due run for the occurrence it covered.
        assert any(subject.slow_runs)
        assert requests.get(f"{base}/api/ping", timeout=10).text == "pong"
        assert server.timer_runner is not None
        assert server.timer_runner.runs["broken"] >= 2
    finally:
        server.shutdown()


def test_timers_are_off_unless_asked_for_and_bad_schedules_are_refused_at_start() -> None:
    server, _ = start_in_thread(TimerApp().app)
    try:
        assert server.timer_runner is None
    finally:
        server.shutdown()

    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.timer_trigger(schedule="0 0 9 * * MON", arg_name="timer", run_on_startup=False)
    def mondays(timer: func.TimerRequest) -> None:
        return None

    with pytest.raises(ValueError, match=r"timer function mondays: .*'MON' is not supported"):
        make_server(app, timers=True)


def test_schedule_from_an_app_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TIMER_SCHEDULE", "*/1 * * * * *")
    calls: list[bool] = []
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.timer_trigger(schedule="%TEST_TIMER_SCHEDULE%", arg_name="timer", run_on_startup=False)
    def configured(timer: func.TimerRequest) -> None:
        calls.append(timer.past_due)

    server, _ = start_in_thread(app, timers=True)
    try:
        assert server.timer_runner is not None
        assert server.timer_runner.schedules["configured"].expression == "*/1 * * * * *"
        wait_for(lambda: len(calls) >= 1, "the timer scheduled by an app setting")
    finally:
        server.shutdown()


def test_cli_runs_timers_by_default(tmp_path: Path) -> None:
    """`python -m local.host` (what `make run` uses without Core Tools) runs the app's timers."""
    marker = tmp_path / "ticked"
    (tmp_path / "timer_app.py").write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            import azure.functions as func

            app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

            @app.route(route="ping", methods=["GET"])
            def ping(req: func.HttpRequest) -> func.HttpResponse:
                return func.HttpResponse("pong")

            @app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer", run_on_startup=False)
            def tick(timer: func.TimerRequest) -> None:
                Path({str(marker)!r}).write_text("past_due=" + str(timer.past_due))
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.host", "--port", "0", "--app", "timer_app:app"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(r"Serving 1 routes at (http://127\.0\.0\.1:\d+/api)\n", line)
        assert found, line
        wait_for(marker.exists, "the CLI host to run the timer")
        assert marker.read_text().startswith("past_due=")
        assert requests.get(f"{found[1]}/ping", timeout=10).text == "pong"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_run_on_startup_runs_once_at_start() -> None:
    calls: list[bool] = []
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)  # yearly
    def new_year(timer: func.TimerRequest) -> None:
        calls.append(timer.past_due)

    server, _ = start_in_thread(app, timers=True)
    try:
        wait_for(lambda: len(calls) >= 1, "the run at startup")
        assert calls[0] is False
    finally:
        server.shutdown()
