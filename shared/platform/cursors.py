"""Opaque pagination cursors, bound to the query that issued them.

A cursor carries a position (an offset, or a store continuation token) and a fingerprint of the
query; presented with another query it is refused, not misread.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.json_input import read_json


def _fingerprint(query: list[str]) -> str:
    return hashlib.sha256("\n".join(query).encode("utf-8")).hexdigest()[:16]


def encode_cursor(position: Any, query: list[str]) -> str:
    raw = json.dumps({"o": position, "q": _fingerprint(query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, query: list[str], what: str = "this query") -> Any:
    """The position a cursor stands for, or None without a cursor."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = read_json(base64.urlsafe_b64decode(padded.encode()))
        position = data["o"]
        fingerprint = data["q"]
    except (ValueError, KeyError, TypeError):
        raise BadRequest(
            "'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR
        ) from None
    if fingerprint != _fingerprint(query):
        raise BadRequest(f"'cursor' does not belong to {what}", code=ErrorCode.INVALID_CURSOR)
    return position
