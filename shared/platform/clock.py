"""Time: the one clock of the service and one fixed-width UTC format, so stored timestamps compare
correctly as strings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shared.platform.errors import BadRequest, ErrorCode

# Anything that tells the time; tests pass their own to move it.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    """`2026-11-21T10:00:00.123Z`: millisecond precision, always UTC, always the same width (the
    year too: `0999-...`, so stored timestamps order as strings whatever the year)."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def now_ts() -> str:
    return format_ts(utcnow())


def parse_ts(value: object, field: str) -> datetime:
    """Parse an ISO 8601 / RFC 3339 timestamp; a value without offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{field}' must be an ISO 8601 UTC timestamp", code=ErrorCode.INVALID_TIMESTAMP)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"'{field}' is not a valid ISO 8601 timestamp: {text[:64]!r}", code=ErrorCode.INVALID_TIMESTAMP
        ) from None
    if "T" not in text.upper() and len(text) != 10:
        raise BadRequest(f"'{field}' is not a valid ISO 8601 timestamp", code=ErrorCode.INVALID_TIMESTAMP)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+03:00 is a time before the first year a timestamp can hold.
        raise BadRequest(
            f"'{field}' lies outside the years 0001 to 9999 once in UTC", code=ErrorCode.INVALID_TIMESTAMP
        ) from None


def next_ts(previous: str | None) -> str:
    """Now, but strictly after `previous`, so versions of one passport never share a timestamp."""
    now = utcnow()
    current = now.replace(microsecond=now.microsecond // 1000 * 1000)
    if previous:
        floor = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if current <= floor:
            current = floor + timedelta(milliseconds=1)
    return format_ts(current)
