"""Cells a spreadsheet will not run: the failed-rows CSV report is opened by people in Excel or
LibreOffice, which execute a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
(`=HYPERLINK(...)`, `@SUM(...)`) as a formula. Such a cell is written with a leading `'` (OWASP's
advice; plain numbers such as `-5` stay as they are), and a CSV import reads that `'` away again,
so a report fixed and uploaded again imports what the original said. A cell that itself starts
with `'` before one of those characters gets one more `'`, so the round trip is exact.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def _runs(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text)


def _quoted(text: str) -> bool:
    """`text` is the escaped form of something (a `'` before a runnable or escaped cell)."""
    rest = text[1:]
    return text.startswith(QUOTE) and (_runs(rest) or (rest.startswith(QUOTE) and _quoted(rest)))


def escaped(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return QUOTE + text if _runs(text) or _quoted(text) else text


def unescaped(cell: str) -> str:
    return cell[1:] if _quoted(cell) else cell
