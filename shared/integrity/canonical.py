"""RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes a passport's hash and signature cover.

Any JCS implementation in any language produces the same bytes for the same JSON value, which is
what lets a third party recompute `contentHash` and check `signature` without this code.
"""

from __future__ import annotations

import json
import math
from typing import Any

from shared.platform.errors import BadRequest, ErrorCode


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 serialization of a JSON value, UTF-8 encoded."""
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("JSON text contains a lone surrogate", code=ErrorCode.INVALID_JSON) from None


def _write(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int | float):
        out.append(format_number(value))
    elif isinstance(value, str):
        # json.dumps escapes exactly what ECMAScript's JSON.stringify does when ensure_ascii=False.
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        # Members sort by the UTF-16 code units of their names (RFC 8785 section 3.2.3).
        for index, key in enumerate(
            sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        ):
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def format_number(value: int | float) -> str:
    """ECMAScript Number.prototype.toString of the IEEE 754 double nearest to `value`."""
    try:
        number = float(value)
    except OverflowError:
        raise BadRequest("Number out of the IEEE 754 double range", code=ErrorCode.INVALID_JSON) from None
    if not math.isfinite(number):
        raise BadRequest("NaN and Infinity are not JSON", code=ErrorCode.INVALID_JSON)
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    digits, point = _shortest_digits(abs(number))
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    mantissa = digits if count == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def _shortest_digits(number: float) -> tuple[str, int]:
    """(s, n) with number == 0.s * 10**n and s the shortest round-tripping digits (repr's)."""
    mantissa, _, exponent = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0") or "0", point
