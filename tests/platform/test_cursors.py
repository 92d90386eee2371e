"""Pagination cursors: opaque, URL-safe, and refused when presented with another query."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.platform.cursors import decode_cursor, encode_cursor
from shared.platform.encoding import b64url
from shared.platform.errors import BadRequest, ErrorCode

QUERY = ["operator=did:example:a", "status=Active"]


@pytest.mark.parametrize("position", [0, 7, 12345, "+RID:~abc==#RT:1", {"token": "x", "range": [1, 2]}, "é"])
def test_a_cursor_gives_back_its_position_and_travels_in_a_query_string_unescaped(position: Any):
    cursor = encode_cursor(position, QUERY)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor  # no padding, no + or /
    assert decode_cursor(cursor, list(QUERY)) == position


def test_every_cursor_round_trips_whatever_its_length():
    # Lengths of every remainder modulo 3: the decoder restores 0, 1 or 2 padding characters.
    positions: list[Any] = [*range(120), *("x" * n for n in range(12))]
    assert [decode_cursor(encode_cursor(position, QUERY), QUERY) for position in positions] == positions


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_is_the_first_page(cursor: str | None):
    assert decode_cursor(cursor, QUERY) is None


@pytest.mark.parametrize(
    "other", [["operator=did:example:a"], ["status=Active", "operator=did:example:a"], [*QUERY, "x=1"], []]
)
def test_a_cursor_of_another_query_is_refused_naming_what_it_was_presented_to(other: list[str]):
    cursor = encode_cursor(40, QUERY)
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor, other, "this history")
    assert refused.value.code == ErrorCode.INVALID_CURSOR
    assert refused.value.text == "'cursor' does not belong to this history"
    with pytest.raises(BadRequest) as unnamed:
        decode_cursor(cursor, other)
    assert unnamed.value.text == "'cursor' does not belong to this query"


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        b64url(b"not json"),
        b64url(b'{"o": 1}'),  # no fingerprint
        b64url(b'{"q": "0123456789abcdef"}'),  # no position
        b64url(b"[1, 2]"),
        b64url(b'"text"'),
        b64url(b"\xff\xfe"),
    ],
)
def test_anything_else_is_refused_as_not_issued_here(cursor: str):
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor, QUERY)
    assert refused.value.code == ErrorCode.INVALID_CURSOR
    assert refused.value.text == "'cursor' is not a cursor this service issued"
