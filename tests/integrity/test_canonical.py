"""RFC 8785 vectors: numbers (Appendix B), key order by UTF-16 code units, string escaping."""

import json
import struct

import pytest

from shared.integrity.canonical import canonicalize, format_number
from shared.platform.errors import BadRequest

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
IEEE_VECTORS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), IEEE_VECTORS)
def test_numbers_follow_ecmascript(bits, expected):
    number = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert format_number(number) == expected


def test_integers_and_small_fractions():
    assert [format_number(v) for v in (4.50, 0.002, 1e-27, 1e30, 100, -7, 1e21, 1e20, 1e-7)] == [
        "4.5",
        "0.002",
        "1e-27",
        "1e+30",
        "100",
        "-7",
        "1e+21",
        "100000000000000000000",
        "1e-7",
    ]


def test_rfc8785_section_3_2_2_example():
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(value) == expected.encode("utf-8")


def test_member_order_uses_utf16_code_units():
    # RFC 8785 section 3.2.3 sorting example.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonicalize(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_nested_structures_and_no_whitespace():
    assert canonicalize({"b": [1, {"d": 2, "c": None}], "a": "x"}) == b'{"a":"x","b":[1,{"c":null,"d":2}]}'


@pytest.mark.parametrize(
    ("bad", "fault"),
    [
        ({"v": float("nan")}, "NaN and Infinity"),
        ({"v": float("inf")}, "NaN and Infinity"),
        ({"v": 10**400}, "IEEE 754 double range"),
        ({"v": "\ud800"}, "lone surrogate"),
        ({"\ud800": 1, "a": 2}, "lone surrogate"),
    ],
)
def test_values_outside_json_are_refused(bad, fault):
    with pytest.raises(BadRequest) as refused:
        canonicalize(bad)
    assert refused.value.code == "InvalidJson" and fault in refused.value.text


def test_what_is_not_json_at_all_is_a_programming_error_naming_its_type():
    with pytest.raises(TypeError, match="not a JSON value: set"):
        canonicalize({"v": {1, 2}})


def test_fractions_below_one_keep_their_leading_zero():
    assert [format_number(v) for v in (0.5, -0.25, 0.1, 0.000001)] == ["0.5", "-0.25", "0.1", "0.000001"]


def test_names_and_text_are_written_as_utf8_not_escaped():
    assert (
        canonicalize({"\u20ac": "\u00f6", "\U0001f600": 1}) == '{"\u20ac":"\u00f6","\U0001f600":1}'.encode()
    )
