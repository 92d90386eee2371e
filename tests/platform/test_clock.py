"""One timestamp form: parsed with its offset, range-checked in UTC, written fixed-width."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.platform import clock
from shared.platform.clock import format_ts, next_ts, now_ts, parse_ts, utcnow
from shared.platform.errors import BadRequest


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+03:00", "9999-12-31T23:59:59-03:00"])
def test_dates_with_an_offset_at_the_range_ends_are_refused_not_500(value):
    with pytest.raises(BadRequest) as refused:
        parse_ts(value, "date")
    assert refused.value.code == "InvalidTimestamp" and "0001 to 9999" in refused.value.text


def test_years_before_1000_are_written_with_four_digits_so_they_order_as_strings():
    early = format_ts(parse_ts("0999-01-01T00:00:00Z", "date"))
    assert early == "0999-01-01T00:00:00.000Z"
    assert early < format_ts(parse_ts("1000-01-01T00:00:00Z", "date")) < format_ts(datetime.now(UTC))


def test_the_offset_is_applied():
    assert format_ts(parse_ts("2026-12-01T15:30:00.250+05:30", "date")) == "2026-12-01T10:00:00.250Z"
    assert format_ts(parse_ts("2026-12-01T10:00:00", "date")) == "2026-12-01T10:00:00.000Z"  # no offset: UTC


def test_now_is_utc_and_written_in_the_one_form():
    before = datetime.now(UTC)
    moment, written = utcnow(), now_ts()
    assert moment.utcoffset() == timedelta(0) and before <= moment <= datetime.now(UTC)
    assert format_ts(moment) <= written <= format_ts(datetime.now(UTC))
    assert parse_ts(written, "ts") - moment < timedelta(seconds=5)


def test_a_time_in_another_zone_is_written_as_utc():
    paris = datetime(2026, 12, 1, 11, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert format_ts(paris) == "2026-12-01T10:00:00.999Z"  # milliseconds truncated, never rounded up


def test_the_next_timestamp_is_now_unless_that_would_not_come_after_the_previous(monkeypatch):
    now = datetime(2026, 12, 1, 10, 0, 0, 123_456, tzinfo=UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    assert next_ts(None) == next_ts("") == "2026-12-01T10:00:00.123Z"
    assert next_ts("2026-12-01T09:59:59.999Z") == "2026-12-01T10:00:00.123Z"
    assert next_ts("2026-12-01T10:00:00.122Z") == "2026-12-01T10:00:00.123Z"
    # A previous version at the same millisecond or later (clock skew between workers): 1 ms on.
    assert next_ts("2026-12-01T10:00:00.123Z") == "2026-12-01T10:00:00.124Z"
    assert next_ts("2026-12-01T10:00:05.999Z") == "2026-12-01T10:00:06.000Z"
    late = datetime(2026, 12, 1, 10, 0, 0, 999_500, tzinfo=UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: late)
    assert next_ts(None) == "2026-12-01T10:00:00.999Z"  # the millisecond it is in


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        (None, "must be an ISO 8601 UTC timestamp"),
        (20261201, "must be an ISO 8601 UTC timestamp"),
        ("  ", "must be an ISO 8601 UTC timestamp"),
        ("yesterday", "is not a valid ISO 8601 timestamp: 'yesterday'"),
        ("2026-12-01 10:00:00Z", "is not a valid ISO 8601 timestamp"),  # a space for the T
        ("20261201", "is not a valid ISO 8601 timestamp"),  # basic format: Python reads it, RFC 3339 not
    ],
)
def test_what_is_not_a_timestamp_is_a_400_naming_the_field(value, fault):
    with pytest.raises(BadRequest) as refused:
        parse_ts(value, "validFrom")
    assert refused.value.code == "InvalidTimestamp" and refused.value.text.startswith("'validFrom' ")
    assert fault in refused.value.text


def test_a_date_alone_is_midnight_utc():
    assert format_ts(parse_ts("2026-12-01", "date")) == "2026-12-01T00:00:00.000Z"
    assert format_ts(parse_ts(" 2026-12-01T10:00:00Z ", "date")) == "2026-12-01T10:00:00.000Z"


def test_the_host_time_zone_plays_no_part(monkeypatch):
    # Functions hosts run in UTC, a developer's machine need not: naive means UTC, never local time.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert format_ts(parse_ts("2026-12-01T10:00:00", "date")) == "2026-12-01T10:00:00.000Z"
        assert parse_ts("2026-12-01T10:00:00+01:00", "date").utcoffset() == timedelta(0)
        assert format_ts(datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == "2026-12-01T10:00:00.000Z"
    finally:
        monkeypatch.undo()
        time.tzset()
