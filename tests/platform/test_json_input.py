"""The one JSON reader: what it refuses, each with a reason, and what it keeps exactly."""

from __future__ import annotations

import json

import pytest

from shared.platform.json_input import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    JsonRejected,
    check_value,
    nesting_depth,
    read_json,
)


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
        ('["ok", ["\\ud800"]]', "lone UTF-16 surrogate"),
        ("[[], [], []" + ", [" * MAX_DEPTH + "]" * MAX_DEPTH + "]", "nested deeper"),
        (b"\xff\xfe", "not UTF-8"),
        ("{", "Expecting"),
    ],
)
def test_refused_with_a_reason(text, reason):
    with pytest.raises(JsonRejected) as refused:
        read_json(text)
    assert reason in refused.value.reason
    assert str(refused.value) == refused.value.reason  # what callers that catch ValueError report


def test_what_it_keeps_exactly():
    text = (
        '{"max": 9007199254740991, "min": -9007199254740991, "f": 0.1, "pair": "\\ud83d\\ude00", "s": "[{"}'
    )
    assert read_json(text) == json.loads(text)
    assert read_json(("[" * MAX_DEPTH) + ("]" * MAX_DEPTH)) == json.loads(
        ("[" * MAX_DEPTH) + ("]" * MAX_DEPTH)
    )
    assert read_json('"a \\\\ud800 b"') == "a \\ud800 b"  # an escaped backslash, not a surrogate
    assert read_json('["\\ud83d\\ude00", ["\\ud83d\\ude00"]]') == ["\U0001f600", ["\U0001f600"]]


def test_brackets_inside_strings_do_not_nest():
    assert nesting_depth('{"a": "[[[[{{{{", "b": ["\\"]]"]}') == 2


def test_depth_counts_nesting_not_siblings():
    assert nesting_depth("[[], [[]], {}]") == 3
    assert nesting_depth("[]" * 100) == 1


def test_a_long_integer_is_quoted_in_part():
    with pytest.raises(JsonRejected) as refused:
        read_json("1" * 5000)
    assert refused.value.reason == (
        f"the integer {'1' * 24}... is beyond ±(2^53 - 1), which not every reader holds exactly; "
        "send it as a string"
    )
    for digits, shown in ((str(2**70), str(2**70)), ("9" * 24, "9" * 24), ("9" * 25, "9" * 24 + "...")):
        with pytest.raises(JsonRejected) as short:
            read_json(digits)
        assert short.value.reason.startswith(f"the integer {shown} is beyond")


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


def nested(levels: int, make) -> object:
    value: object = 1
    for _ in range(levels):
        value = make(value)
    return value


@pytest.mark.parametrize("make", [lambda v: [v], lambda v: {"a": v}], ids=["lists", "objects"])
def test_other_parsers_values_may_nest_to_the_limit_and_no_deeper(make):
    check_value(nested(MAX_DEPTH, make))
    with pytest.raises(JsonRejected) as refused:
        check_value(nested(MAX_DEPTH + 1, make), where="the mapping")
    assert refused.value.reason == f"the mapping is nested deeper than {MAX_DEPTH} levels"


def test_other_parsers_values_are_checked_whole_and_say_where():
    check_value({"max": MAX_SAFE_INTEGER, "min": -MAX_SAFE_INTEGER, "flags": [True, False]})
    with pytest.raises(JsonRejected) as refused:
        check_value([2**60, True])  # a boolean met first stops nothing
    assert refused.value.reason == "the value holds an integer beyond ±(2^53 - 1)"
    with pytest.raises(JsonRejected) as infinite:
        check_value({"x": [float("-inf")]}, where="row 3")
    assert infinite.value.reason == "row 3 holds a number that is not finite"
