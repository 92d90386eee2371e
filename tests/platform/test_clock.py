"""One timestamp form: parsed with its offset, range-checked in UTC, written fixed-width."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.platform.clock import format_ts, parse_ts
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
