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
    """`2026-11-21T10:00:00.123Z`: millisecond precision, always UTC, always the same width."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


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
    return parsed.astimezone(UTC)


def next_ts(previous: str | None) -> str:
    """Now, but strictly after `previous`, so versions of one passport never share a timestamp."""
    now = utcnow()
    current = now.replace(microsecond=now.microsecond // 1000 * 1000)
    if previous:
        floor = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if current <= floor:
            current = floor + timedelta(milliseconds=1)
    return format_ts(current)
