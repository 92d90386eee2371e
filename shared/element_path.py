"""Element paths of the fine granular API: RFC 9535 singular JSONPath queries and idShort paths.

`$['nameplate']['Materials'][0]`, `$.nameplate.Materials[0]` (percent-encoded once as one URL
segment) and `nameplate/Materials/0` (one URL segment per element) address the same element.
Only singular queries are accepted: a path names exactly one element or is malformed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from shared.errors import BadRequest, NotFound

Segment = str | int
_BLANK = " \t\n\r"
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\", "'": "'", '"': '"'}


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"Malformed element path: {reason}", code="InvalidElementPath")


def _decode(raw: str) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("percent-encoding is not UTF-8") from None


def parse_element_path(raw: str) -> tuple[Segment, ...]:
    """Parse the still percent-encoded path that followed `/elements/` in the URL."""
    if raw.startswith("$") or raw[:3].lower() == "%24":
        return _parse_jsonpath(_decode(raw))
    if raw == "":
        raise _invalid("empty path")
    parts = raw.split("/")
    if any(part == "" for part in parts):
        raise _invalid("empty segment in idShort path")
    return tuple(_decode(part) for part in parts)


def _parse_jsonpath(text: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    pos = 1
    while pos < len(text):
        if text[pos] == ".":
            name, pos = _member_shorthand(text, pos + 1)
            segments.append(name)
        elif text[pos] == "[":
            selector, pos = _bracket(text, pos + 1)
            segments.append(selector)
        else:
            raise _invalid(f"unexpected {text[pos]!r} at position {pos}")
    if not segments:
        raise _invalid("'$' alone names the whole passport, not an element")
    return tuple(segments)


def _member_shorthand(text: str, pos: int) -> tuple[str, int]:
    start = pos
    if pos >= len(text) or not _name_first(text[pos]):
        raise _invalid(f"expected a member name at position {pos}")
    while pos < len(text) and (_name_first(text[pos]) or text[pos].isdigit()):
        pos += 1
    return text[start:pos], pos


def _name_first(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z") or char == "_" or ord(char) >= 0x80


def _skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _BLANK:
        pos += 1
    return pos


def _bracket(text: str, pos: int) -> tuple[Segment, int]:
    pos = _skip_blank(text, pos)
    if pos >= len(text):
        raise _invalid("unterminated '['")
    selector: Segment
    if text[pos] in "'\"":
        selector, pos = _string_literal(text, pos)
    elif text[pos] == "-" or text[pos].isdigit():
        selector, pos = _index(text, pos)
    else:
        raise _invalid(f"only a name or an index may stand in brackets (position {pos})")
    pos = _skip_blank(text, pos)
    if pos >= len(text) or text[pos] != "]":
        raise _invalid(f"expected ']' at position {pos}")
    return selector, pos + 1


def _index(text: str, pos: int) -> tuple[int, int]:
    start = pos
    if text[pos] == "-":
        pos += 1
    digits_start = pos
    while pos < len(text) and "0" <= text[pos] <= "9":
        pos += 1
    digits = text[digits_start:pos]
    if not digits or (len(digits) > 1 and digits[0] == "0") or text[start:pos] == "-0":
        raise _invalid(f"bad index at position {start}")
    return int(text[start:pos]), pos


def _string_literal(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    pos += 1
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char == "\\":
            char, pos = _escape(text, pos + 1, quote)
            out.append(char)
            continue
        if ord(char) < 0x20:
            raise _invalid("control character in a name; escape it")
        out.append(char)
        pos += 1
    raise _invalid("unterminated string")


def _escape(text: str, pos: int, quote: str) -> tuple[str, int]:
    if pos >= len(text):
        raise _invalid("dangling backslash")
    char = text[pos]
    if char == "u":
        unit, pos = _hex4(text, pos + 1)
        if 0xD800 <= unit <= 0xDBFF:
            if text[pos : pos + 2] != "\\u":
                raise _invalid("lone high surrogate")
            low, pos = _hex4(text, pos + 2)
            if not 0xDC00 <= low <= 0xDFFF:
                raise _invalid("bad low surrogate")
            return chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)), pos
        if 0xDC00 <= unit <= 0xDFFF:
            raise _invalid("lone low surrogate")
        return chr(unit), pos
    # RFC 9535: only the enclosing quote may be escaped, not the other one.
    if char in _ESCAPES and (char not in "'\"" or char == quote):
        return _ESCAPES[char], pos + 1
    raise _invalid(f"bad escape '\\{char}'")


def _hex4(text: str, pos: int) -> tuple[int, int]:
    chunk = text[pos : pos + 4]
    if len(chunk) != 4 or any(c not in "0123456789abcdefABCDEF" for c in chunk):
        raise _invalid("bad \\u escape")
    return int(chunk, 16), pos + 4


def normalized_path(segments: Sequence[Segment]) -> str:
    """RFC 9535 Normalized Path text of a path, for messages."""
    parts = ["$"]
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append("['" + "".join(_normal_char(c) for c in segment) + "']")
    return "".join(parts)


def _normal_char(char: str) -> str:
    named = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "'": "\\'", "\\": "\\\\"}
    if char in named:
        return named[char]
    return f"\\u{ord(char):04x}" if ord(char) < 0x20 else char


def _step(node: Any, segment: Segment) -> tuple[bool, Any]:
    """Whether `segment` selects something in `node`, and the key or index it selects."""
    if isinstance(node, dict):
        return (isinstance(segment, str) and segment in node), segment
    if isinstance(node, list):
        if isinstance(segment, str):
            if not segment.isascii() or not segment.isdigit() or (len(segment) > 1 and segment[0] == "0"):
                return False, segment
            segment = int(segment)
        index = segment + len(node) if segment < 0 else segment
        return 0 <= index < len(node), index
    return False, segment


def _missing(segments: Sequence[Segment]) -> NotFound:
    return NotFound(f"No element at {normalized_path(segments)}", code="ElementNotFound")


def resolve(document: Any, segments: Sequence[Segment]) -> Any:
    node = document
    for depth, segment in enumerate(segments):
        found, key = _step(node, segment)
        if not found:
            raise _missing(segments[: depth + 1])
        node = node[key]
    return node


def assign(document: dict[str, Any], segments: Sequence[Segment], value: Any) -> dict[str, Any]:
    """A copy of `document` with the existing element at `segments` replaced by `value`."""
    if not segments:
        raise _invalid("an update needs a path to an element")
    updated = copy.deepcopy(document)
    parent = resolve(updated, segments[:-1])
    found, key = _step(parent, segments[-1])
    if not found:
        raise _missing(segments)
    parent[key] = copy.deepcopy(value)
    return updated
