"""JSON from outside (request bodies, import rows, mappings, other providers' answers), read one way.

I-JSON (RFC 7493) and then some: no duplicate member names (the last would silently win), no lone
surrogates (they cannot be stored or signed as UTF-8), integers only where they round-trip
exactly through an IEEE double (|n| <= 2^53 - 1, as RFC 8785 canonical JSON and every JavaScript
reader need), finite numbers only, and at most MAX_DEPTH levels of nesting, checked before the
parser recurses (so `[[[[...` is a refusal, not a RecursionError). Every refusal is a
`JsonRejected` (a ValueError) that says what and where.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
# Strings (escapes included) are skipped when counting brackets: a "[" inside one nests nothing.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# A \uD800-\uDFFF escape: the only way a lone surrogate gets into decoded JSON text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]|\\u[dD][c-fC-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRejected(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def nesting_depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise JsonRejected(f"duplicate key {name[:64]!r} in one object")
        found[name] = value
    return found


def _integer(text: str) -> int:
    # Checked on the text: Python would refuse 5,000 digits only after trying to convert them.
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        raise JsonRejected(
            f"the integer {text[:24]}{'...' if len(text) > 24 else ''} is beyond ±(2^53 - 1), "
            "which not every reader holds exactly; send it as a string"
        )
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"the number {text[:24]} is beyond the range of a number")
    return value


def _constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


def _lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def read_json(source: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text (bytes must be UTF-8) under the rules above."""
    if isinstance(source, bytes | bytearray):
        try:
            text = bytes(source).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRejected(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    else:
        text = source
    if nesting_depth(text) > max_depth:
        raise JsonRejected(f"nested deeper than {max_depth} levels")
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_int=_integer, parse_float=_float, parse_constant=_constant
        )
    except JsonRejected:
        raise
    except (ValueError, RecursionError) as exc:
        raise JsonRejected(str(exc)) from None
    if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(value):
        raise JsonRejected("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
    return value


def check_value(value: Any, *, max_depth: int = MAX_DEPTH, where: str = "the value") -> None:
    """The same limits on a value some other parser built (YAML): depth, integers, numbers."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth > max_depth:
            raise JsonRejected(f"{where} is nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            raise JsonRejected(f"{where} holds an integer beyond ±(2^53 - 1)")
        elif isinstance(item, float) and not math.isfinite(item):
            raise JsonRejected(f"{where} holds a number that is not finite")
