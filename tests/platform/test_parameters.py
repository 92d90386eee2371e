"""Integer query parameters: ASCII digits within stated bounds, else a 400 naming the parameter."""

from __future__ import annotations

import pytest

from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.parameters import bounded_int, is_ascii_integer


def limit(raw: str | None) -> int:
    return bounded_int(raw, "limit", low=1, high=100, default=20)


@pytest.mark.parametrize("raw", [None, ""])
def test_an_absent_or_empty_parameter_takes_the_default(raw: str | None):
    assert limit(raw) == 20


def test_both_bounds_are_inside_and_the_value_is_read_as_written():
    assert [limit("1"), limit("100"), limit("42"), limit("007")] == [1, 100, 42, 7]


@pytest.mark.parametrize("raw", ["0", "101", "-1", "+5", " 5", "5 ", "1.0", "²", "\u0663", "ten", "0" * 13])
def test_anything_else_is_a_400_naming_the_parameter_and_its_bounds(raw: str):
    with pytest.raises(BadRequest) as refused:
        limit(raw)
    assert refused.value.code == ErrorCode.INVALID_PARAMETER
    assert refused.value.text == "'limit' must be an integer from 1 to 100"


def test_a_caller_chooses_the_code_of_the_refusal():
    with pytest.raises(BadRequest) as refused:
        bounded_int("0", "depth", low=1, high=3, default=1, code=ErrorCode.INVALID_LIMIT)
    assert refused.value.code == ErrorCode.INVALID_LIMIT and "'depth'" in refused.value.text


def test_what_counts_as_an_ascii_integer():
    # Twelve digits at most: a Content-Length or a page size never needs more, and int() of a
    # thousand-digit string costs time before any bound is checked.
    assert is_ascii_integer("0") and is_ascii_integer("9" * 12)
    assert not is_ascii_integer("9" * 13)
    assert not any(is_ascii_integer(raw) for raw in (None, "", "²", "\u0663", "-1", "1e3", "12a"))
