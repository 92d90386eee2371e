"""Timer triggers: NCRONTAB schedules (six fields, UTC) and a runner that calls each timer function
on its schedule, never overlapping itself."""

from __future__ import annotations

import bisect
import calendar
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import azure.functions as func
from azure.functions.timer import TimerRequest

if TYPE_CHECKING:
    pass

from local.host.functions_index import call_function, registered_functions, trigger_of

log = logging.getLogger(__name__)


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


def timer_functions(app: func.FunctionApp) -> list[TimerFunction]:
    """The app's timer-triggered functions."""
    found = [(function, trigger_of(function, "timerTrigger")) for function in registered_functions(app)]
    return [_timer_of(function, trigger) for function, trigger in found if trigger is not None]


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
            call_function(timer.function, timer.arg_name, request)
        except Exception:
            log.exception("Timer function %s raised", timer.name)
        finally:
            self.runs[timer.name] += 1
