"""The one JSON reader: what it refuses, each with a reason, and what it keeps exactly."""

from __future__ import annotations

import json

import pytest

from shared.platform.json_input import MAX_DEPTH, JsonRejected, check_value, nesting_depth, read_json


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper"),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nested deeper"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        (str(2**70), "beyond"),
        ("12345678901234567891", "beyond"),
        ("-9007199254740992", "beyond"),
        ("1" * 5000, "beyond"),
        ("1e400", "range"),
        ("NaN", "not a JSON number"),
        ('"http://x.com/\\ud800"', "lone UTF-16 surrogate"),
        ('{"\\udc00": 1}', "lone UTF-16 surrogate"),
        (b"\xff\xfe", "not UTF-8"),
        ("{", "Expecting"),
    ],
)
def test_refused_with_a_reason(text, reason):
    with pytest.raises(JsonRejected) as refused:
        read_json(text)
    assert reason in refused.value.reason


def test_what_it_keeps_exactly():
    text = (
        '{"max": 9007199254740991, "min": -9007199254740991, "f": 0.1, "pair": "\\ud83d\\ude00", "s": "[{"}'
    )
    assert read_json(text) == json.loads(text)
    assert read_json(("[" * MAX_DEPTH) + ("]" * MAX_DEPTH)) == json.loads(
        ("[" * MAX_DEPTH) + ("]" * MAX_DEPTH)
    )
    assert read_json('"a \\\\ud800 b"') == "a \\ud800 b"  # an escaped backslash, not a surrogate


def test_brackets_inside_strings_do_not_nest():
    assert nesting_depth('{"a": "[[[[{{{{", "b": ["\\"]]"]}') == 2


def test_values_from_other_parsers_get_the_same_limits():
    deep: list = []
    node = deep
    for _ in range(MAX_DEPTH):
        node.append([])
        node = node[0]
    for value in (deep, {"n": 2**60}, {"x": float("inf")}):
        with pytest.raises(JsonRejected):
            check_value(value)
    check_value({"ok": [1, 2.5, True, None, "x"]})
