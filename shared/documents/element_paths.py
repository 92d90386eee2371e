"""Element paths of the fine granular API: RFC 9535 singular JSONPath queries and idShort paths.

`$['nameplate']['Materials'][0]`, `$.nameplate.Materials[0]` (percent-encoded once as one URL
segment) and `nameplate/Materials/0` (one URL segment per element) address the same element.
Only singular queries are accepted: a path names exactly one element or is malformed. An
idShort-path segment that names no member where it stands and reads as an AAS idShortPath
(IDTA-01002: `Materials[1].Name`) is read as its steps, so `nameplate.Materials[1].Name` addresses
that element too; a member whose own name has dots or brackets is always found first. A step that
names no member but is the idShort the AAS export gives one (`shared.documents.id_shorts`: a key
that is no idShort, such as `Product name`, is exported as `Product_name_<digest>`) names that member.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from shared.documents.id_shorts import RESERVED_SUBMODELS, id_shorts
from shared.documents.members import is_section
from shared.platform.errors import BadRequest, ErrorCode, NotFound

Segment = str | int

_BLANK = frozenset(" \t\n\r")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
# RFC 9535 §2.1: indices must lie in the I-JSON exact integer range.
_MAX_INDEX = 2**53 - 1
_MAX_INDEX_DIGITS = len(str(_MAX_INDEX))
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\", "'": "'", '"': '"'}
_NORMAL_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "'": "\\'", "\\": "\\\\"}
_SHOWN_CHARS = 200


# -- errors -----------------------------------------------------------------------------------


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"Malformed element path: {reason}", code=ErrorCode.INVALID_ELEMENT_PATH)


def _malformed(reason: str, text: str, pos: int) -> BadRequest:
    """A JSONPath syntax error that says where, in the decoded path, parsing stopped."""
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    return _invalid(f"{reason} at position {pos} of {json.dumps(shown, ensure_ascii=False)}")


# -- parsing ----------------------------------------------------------------------------------


def parse_element_path(raw: str) -> tuple[Segment, ...]:
    """Parse the still percent-encoded path that followed `/elements/` in the URL.

    A path starting with `$` (or `%24`) is an RFC 9535 singular query, decoded as a whole;
    anything else is an idShort path whose `/`-separated segments are decoded one by one, so
    that `%2F` stays inside a name.
    """
    if is_jsonpath(raw):
        return _parse_jsonpath(_decode(raw, "the path"))
    if raw == "":
        raise _invalid("the path is empty")
    parts = raw.split("/")
    for number, part in enumerate(parts, start=1):
        if part == "":
            raise _invalid(f"segment {number} of the idShort path {json.dumps(raw)} is empty")
    return tuple(_decode(part, f"segment {number}") for number, part in enumerate(parts, start=1))


def is_jsonpath(raw: str) -> bool:
    """Whether the raw path after `/elements/` is an RFC 9535 query (else an idShort path)."""
    return raw.startswith("$") or raw[:3].lower() == "%24"


# One step of an AAS idShortPath: a name (after a dot, but for the first) or a list index.
_ID_SHORT_STEP = re.compile(r"(?:^|\.)([^.\[\]]+)|\[(0|[1-9][0-9]*)\]")


def _id_short_steps(text: str) -> list[Segment] | None:
    """`Materials[1].Name` as its steps (`Materials`, 1, `Name`); None if it is no idShortPath."""
    steps: list[Segment] = []
    pos = 0
    while pos < len(text):
        found = _ID_SHORT_STEP.match(text, pos)
        if found is None or (not steps and found[1] is None):  # it starts with a name
            return None
        name, index = found[1], found[2]
        if index is not None and len(index) > _MAX_INDEX_DIGITS:
            return None
        steps.append(name if name is not None else int(index))
        pos = found.end()
    return steps if len(steps) > 1 else None


def expand_id_short_paths(document: Any, segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """`segments` (an idShort path), each segment that names no member where it stands but is the
    AAS export's idShort of one replaced by that member's name, or that reads as an AAS
    idShortPath to an element that exists replaced by its steps; the rest as given."""
    node: Any = document
    expanded: list[Segment] = []
    for depth, segment in enumerate(segments):
        key = _select(node, segment)
        if key is not None:
            expanded.append(segment)
            node = node[key]
            continue
        mapped = _mapped_member(node, segment, node is document)
        steps = (
            [mapped] if mapped is not None else _id_short_steps(segment) if isinstance(segment, str) else None
        )
        reached = _follow(node, steps, node is document) if steps else None
        if reached is None:
            return (*expanded, *segments[depth:])
        node, keys = reached
        expanded.extend(keys)
    return tuple(expanded)


def _follow(node: Any, steps: Sequence[Segment], top: bool) -> tuple[Any, list[Segment]] | None:
    """The element `steps` lead to from `node` (the document, if `top`) and the names and indices
    that lead there (a step may be a member's AAS idShort), or None."""
    keys: list[Segment] = []
    for step in steps:
        key = _select(node, step)
        if key is None:
            key = _mapped_member(node, step, top and not keys)
        if key is None:
            return None
        keys.append(key if isinstance(node, dict) else step)
        node = node[key]
    return node, keys


def _mapped_member(node: Any, step: Segment, top: bool) -> str | None:
    """The member of `node` whose AAS idShort `step` is, where that is not its own name: at the
    top (the document), among the sections, named beside DppMetadata and Artifacts, as the export
    names its submodels; elsewhere among the object's members."""
    if not isinstance(node, dict) or not isinstance(step, str):
        return None
    members = [key for key, value in node.items() if is_section(key, value)] if top else list(node)
    key = id_shorts(members, RESERVED_SUBMODELS if top else ()).get(step)
    return key if key != step else None


def _decode(raw: str, what: str) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeError:
        raise _invalid(f"the percent-encoding of {what} is not UTF-8") from None


def parse_jsonpath(text: str) -> tuple[Segment, ...]:
    """Parse an RFC 9535 singular query given as text (not from a URL: nothing is decoded)."""
    if not text.startswith("$"):
        raise _invalid("a JSONPath query starts with '$'")
    return _parse_jsonpath(text)


def _parse_jsonpath(text: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    pos = 1  # past the root identifier `$`
    while pos < len(text):
        # RFC 9535 allows blank space before each segment, but none after the last one.
        pos = _skip_blank(text, pos)
        if pos == len(text):
            raise _malformed("blank space after the last segment", text, pos)
        segment, pos = _segment(text, pos)
        segments.append(segment)
    if not segments:
        raise _malformed("'$' alone is the whole passport, not an element; expected a segment", text, 1)
    return tuple(segments)


def _segment(text: str, pos: int) -> tuple[Segment, int]:
    if text.startswith("..", pos):
        raise _malformed("descendant segments ('..') can select many elements; not accepted", text, pos)
    if text[pos] == ".":
        return _member_shorthand(text, pos + 1)
    if text[pos] == "[":
        return _bracket(text, pos + 1)
    raise _malformed(f"expected '.' or '[' but found {text[pos]!r}", text, pos)


def _member_shorthand(text: str, pos: int) -> tuple[str, int]:
    start = pos
    if pos == len(text) or not _name_first(text[pos]):
        raise _malformed("expected a member name (a letter, '_' or non-ASCII character)", text, pos)
    while pos < len(text) and (_name_first(text[pos]) or text[pos] in _DIGITS):
        pos += 1
    return text[start:pos], pos


def _name_first(char: str) -> bool:
    # Surrogates (D800-DFFF) cannot occur: the text came from strict UTF-8 decoding.
    return ("a" <= char <= "z") or ("A" <= char <= "Z") or char == "_" or ord(char) >= 0x80


def _skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _BLANK:
        pos += 1
    return pos


def _bracket(text: str, pos: int) -> tuple[Segment, int]:
    pos = _skip_blank(text, pos)
    if pos == len(text):
        raise _malformed("unterminated '['", text, pos)
    selector: Segment
    char = text[pos]
    if char in "'\"":
        selector, pos = _string_literal(text, pos)
    elif char == "-" or char in _DIGITS:
        selector, pos = _index(text, pos)
    elif char in "*?":
        raise _malformed("wildcard and filter selectors can select many elements; not accepted", text, pos)
    else:
        raise _malformed("expected a quoted name or an index", text, pos)
    pos = _skip_blank(text, pos)
    if pos == len(text):
        raise _malformed("unterminated '['; expected ']'", text, pos)
    if text[pos] in ",:":
        raise _malformed("slices and selector lists can select many elements; not accepted", text, pos)
    if text[pos] != "]":
        raise _malformed(f"expected ']' but found {text[pos]!r}", text, pos)
    return selector, pos + 1


def _index(text: str, pos: int) -> tuple[int, int]:
    start = pos
    if text[pos] == "-":
        pos += 1
    digits_start = pos
    while pos < len(text) and text[pos] in _DIGITS:
        pos += 1
    digits = text[digits_start:pos]
    if not digits:
        raise _malformed("expected digits after '-'", text, pos)
    if digits[0] == "0" and (len(digits) > 1 or digits_start > start):
        raise _malformed("an index has no leading zeros and '-0' is not an index", text, start)
    # Checked before int(): a huge digit string would otherwise be costly or refused by int().
    if len(digits) > _MAX_INDEX_DIGITS or int(digits) > _MAX_INDEX:
        raise _malformed(f"index beyond +/-{_MAX_INDEX}", text, start)
    return int(text[start:pos]), pos


def _string_literal(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    start = pos
    pos += 1
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char == "\\":
            char, pos = _escape(text, pos, quote)
        elif ord(char) < 0x20:
            raise _malformed("unescaped control character in a name", text, pos)
        else:
            pos += 1
        out.append(char)
    raise _malformed(f"name opened with {quote} is never closed", text, start)


def _escape(text: str, pos: int, quote: str) -> tuple[str, int]:
    """The character the escape sequence at `pos` (its backslash) stands for, and the position after it."""
    char = text[pos + 1 : pos + 2]
    if char == "u":
        return _unicode_escape(text, pos)
    # RFC 9535: only the enclosing quote may be escaped, not the other one.
    if char in _ESCAPES and (char not in "'\"" or char == quote):
        return _ESCAPES[char], pos + 2
    raise _malformed(f"invalid escape '\\{char}'", text, pos)


def _unicode_escape(text: str, pos: int) -> tuple[str, int]:
    unit = _hex4(text, pos)
    if 0xDC00 <= unit <= 0xDFFF:
        raise _malformed("low surrogate without a high surrogate before it", text, pos)
    if not 0xD800 <= unit <= 0xDBFF:
        return chr(unit), pos + 6
    if text[pos + 6 : pos + 8] != "\\u":
        raise _malformed("high surrogate not followed by a '\\u' low surrogate", text, pos)
    low = _hex4(text, pos + 6)
    if not 0xDC00 <= low <= 0xDFFF:
        raise _malformed("high surrogate not followed by a low surrogate", text, pos + 6)
    return chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)), pos + 12


def _hex4(text: str, pos: int) -> int:
    """The value of the `\\uXXXX` escape whose backslash is at `pos`."""
    chunk = text[pos + 2 : pos + 6]
    if len(chunk) != 4 or not set(chunk) <= _HEX:
        raise _malformed("'\\u' must be followed by four hex digits", text, pos)
    return int(chunk, 16)


# -- normalized paths -------------------------------------------------------------------------


def normalized_path(segments: Sequence[Segment]) -> str:
    """RFC 9535 Normalized Path text: names as `['...']`, indices as `[N]`."""
    parts = ["$"]
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append("['" + "".join(_normal_char(c) for c in segment) + "']")
    return "".join(parts)


def _normal_char(char: str) -> str:
    if char in _NORMAL_ESCAPES:
        return _NORMAL_ESCAPES[char]
    return f"\\u{ord(char):04x}" if ord(char) < 0x20 else char


# -- resolution -------------------------------------------------------------------------------


def _as_index(segment: Segment) -> int | None:
    if isinstance(segment, int):
        return segment
    # idShort paths carry indices as text; leading zeros would give one element several names.
    if segment.isascii() and segment.isdigit() and (segment == "0" or segment[0] != "0"):
        # Longer than any index a list can have; also spares int() a huge string.
        return int(segment) if len(segment) <= _MAX_INDEX_DIGITS else _MAX_INDEX + 1
    return None


def _select(node: Any, segment: Segment) -> Segment | None:
    """The member name or non-negative index `segment` selects in `node`, or None if nothing."""
    if isinstance(node, dict):
        return segment if isinstance(segment, str) and segment in node else None
    if isinstance(node, list):
        index = _as_index(segment)
        if index is None:
            return None
        if index < 0:
            index += len(node)
        return index if 0 <= index < len(node) else None
    return None


def locate(document: Any, segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """The normalized location (names, non-negative indices) of the element `segments` address."""
    node = document
    location: list[Segment] = []
    for depth, segment in enumerate(segments):
        key = _select(node, segment)
        if key is None:
            raise _not_found(node, location, segments[depth:])
        location.append(key)
        node = node[key]
    return tuple(location)


def _not_found(node: Any, found: list[Segment], missing: Sequence[Segment]) -> NotFound:
    first = missing[0]
    # Show a text index used on an array as the index it stands for.
    if isinstance(node, list) and isinstance(first, str) and _as_index(first) is not None:
        first = int(first) if len(first) <= _MAX_INDEX_DIGITS else first
    requested = normalized_path([*found, first, *missing[1:]])
    text = f"No element at {requested}"
    if len(missing) > 1:
        text += f" ({normalized_path([*found, first])} does not exist)"
    return NotFound(text, code=ErrorCode.ELEMENT_NOT_FOUND)


def resolve(document: Any, segments: Sequence[Segment]) -> Any:
    """The element `segments` address; the document itself for no segments."""
    node = document
    for key in locate(document, segments):
        node = node[key]
    return node


def assign(document: dict[str, Any], segments: Sequence[Segment], value: Any) -> dict[str, Any]:
    """A copy of `document` with the existing element at `segments` replaced by a copy of `value`."""
    if not segments:
        raise _invalid("an update needs the path of an element, not of the whole passport")
    location = locate(document, segments)
    updated = copy.deepcopy(document)
    parent: Any = updated
    for key in location[:-1]:
        parent = parent[key]
    parent[location[-1]] = copy.deepcopy(value)
    return updated
