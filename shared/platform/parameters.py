"""Query parameters read one way: integers are ASCII digits only, within stated bounds, booleans
`true` or `false`, else a 400 naming the parameter (`str.isdigit` takes a superscript two, which
`int` then refuses; `int` takes Arabic-Indic digits)."""

from __future__ import annotations

import re

from shared.platform.errors import BadRequest, ErrorCode

_DIGITS = re.compile(r"[0-9]{1,12}")


def is_ascii_integer(raw: str | None) -> bool:
    return raw is not None and _DIGITS.fullmatch(raw) is not None


def bounded_int(
    raw: str | None,
    name: str,
    *,
    low: int,
    high: int,
    default: int,
    code: ErrorCode = ErrorCode.INVALID_PARAMETER,
) -> int:
    """`raw` as an integer from `low` to `high`; `default` when absent or empty."""
    if raw is None or raw == "":
        return default
    if not is_ascii_integer(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"'{name}' must be an integer from {low} to {high}", code=code)
    return int(raw)


def parse_bool(raw: str | None, name: str) -> bool:
    """`true` or `false`, in any case (Python clients send `True`); false when absent or empty."""
    text = (raw or "").lower()
    if text in ("", "false"):
        return False
    if text == "true":
        return True
    raise BadRequest(f"'{name}' must be true or false", code=ErrorCode.INVALID_PARAMETER)
