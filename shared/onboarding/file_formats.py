"""Streaming readers for bulk onboarding files: CSV, XLSX, JSON, JSON Lines, and Asset
Administration Shell environments (AAS JSON, AASX; `shared.onboarding.aas_files`).

Each reader turns a binary stream into `Record`s, one per data row (tabular formats) or per
passport (JSON formats; a shell of an AAS environment), numbered the way a person finds the row
in the file, so that an import report can point at it. Tabular rows become `values` (column
name -> cell) for an attribute mapping (`shared.onboarding.mappings`); JSON items (and the
passports of AAS shells) are passport documents already and travel in `document`.

Problems with the file as a whole (not UTF-8, no usable header, not an XLSX workbook, JSON that
is not an array) raise `ImportFileError`; a single row that cannot be parsed becomes a `Record`
with `error` set, and reading goes on, so one bad row never hides the others.

CSV and JSON Lines are read incrementally and never held in memory whole; XLSX needs a seekable
file (a ZIP archive is read from its end), so a non-seekable stream is spooled to a temporary
file first, and its shared strings table (every distinct text of the workbook, which grows with
the rows) is kept in a temporary file and read by index, its size limit applied while it is read;
JSON is parsed in one piece, within the size limit the caller enforces. So is an AAS
environment (BaSyx builds its object model whole): an AAS JSON file within that limit, an AASX
package from a seekable file (spooled like a workbook); both at most MAX_AAS_BYTES of AAS JSON or
XML (an AASX's unpacked, and the package at most MAX_XLSX_RATIO times its size, checked from the
zip directory before anything is unpacked); supplementary files are read through, never kept.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import itertools
import re
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, BinaryIO

from shared.onboarding import aas_files
from shared.onboarding.spreadsheet_cells import unescaped
from shared.platform.json_input import MAX_DEPTH, JsonRejected, read_json

FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "jsonl", "aas-json", "aasx")
_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    # An AAS JSON environment is a `.json` file too: `_read_json` tells it by its members.
    ".aasx": "aasx",
}
# In order of preference when a header line has as many of one as of another.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
# Bytes that are not UTF-8 are decoded as lone surrogates (surrogateescape), so a bad byte can be
# reported with the row it sits in instead of wherever the decoder's read-ahead happened to be.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
# Non-seekable XLSX uploads are kept in memory up to this size, on disk beyond it.
_SPOOL_MEMORY_BYTES = 8 * 1024 * 1024
# Workbook limits, checked before unpacking: what a real export of DPP_IMPORT_MAX_ROWS products
# stays well under, and what a bomb does not.
MAX_XLSX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_SHARED_STRINGS = 1_000_000
SHARED_STRINGS = "xl/sharedstrings.xml"
_UNIQUE_COUNT = re.compile(r"<(?:\w+:)?sst\b[^>]*\buniqueCount=\"([0-9]{1,12})\"")
# What an AAS environment may weigh: an AAS JSON file, or an AASX's AAS parts (JSON or XML)
# unpacked. BaSyx builds the whole environment's objects, about 20 times its JSON in memory
# (measured: 2.7 MB of AAS JSON for 500 passports, 54 MB at the peak), so this keeps one import
# of an environment under about 700 MB; larger ones are split (or imported as JSON Lines).
MAX_AAS_BYTES = 32 * 1024 * 1024
# An AAS environment nests two JSON levels (an element and its `value` array) for each level of
# the passport it holds, which may nest MAX_DEPTH levels; a few more for the submodel around it.
_AAS_MAX_DEPTH = 2 * MAX_DEPTH + 8
_SHOWN_CHARS = 80
# Shared strings looked up recently, kept in memory: a column of repeated texts costs no disk read.
_STRING_CACHE = 4096
_OFFSET = struct.Struct("<Q")


class ImportFileError(Exception):
    """The file as a whole cannot be read (reason in str(exc))."""


@dataclass(frozen=True)
class RowError:
    """Why one row cannot become a passport; `column` is the cell to fix (None if not one cell's
    fault)."""

    column: str | None
    reason: str


class RowRejected(Exception):
    """Raised for a row that cannot become a passport; carries the RowError to report."""

    def __init__(self, error: RowError):
        super().__init__(error.reason)
        self.error = error

    @classmethod
    def at(cls, column: str | None, reason: str) -> RowRejected:
        return cls(RowError(column, reason))


@dataclass(frozen=True)
class Record:
    """One row of a tabular file, or one passport of a JSON file."""

    # The row as a person finds it: CSV/XLSX sheet row number (the header row counts), JSON array
    # position (1-based), JSONL line number.
    number: int
    # Tabular formats: column name -> cell value, empty cells left out. JSON formats: {}.
    values: dict[str, Any] = field(default_factory=dict)
    # JSON formats: the parsed item.
    document: Any = None
    # A row that cannot be parsed: the reason; `values` and `document` are then empty.
    error: str | None = None


@dataclass(frozen=True)
class ReaderOptions:
    delimiter: str | None = None  # CSV; None = detect among , ; \t | from the header line
    sheet: str | None = None  # XLSX; None = the first worksheet
    header_row: int = 1  # CSV/XLSX: the sheet row number of the column names


# -- format -----------------------------------------------------------------------------------


def detect_format(file_name: str, declared: str | None = None) -> str:
    """The import format: `declared` when given, else from the file name's extension."""
    if declared is not None and declared.strip():
        fmt = declared.strip().lower()
        if fmt not in FORMATS:
            raise ImportFileError(f"Unknown import format {declared!r}; expected one of {', '.join(FORMATS)}")
        return fmt
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    if suffix not in _EXTENSIONS:
        known = ", ".join(sorted(_EXTENSIONS))
        raise ImportFileError(
            f"Cannot tell the format of {base!r} from its name; use one of {known} or declare the format"
        )
    return _EXTENSIONS[suffix]


def read_records(stream: BinaryIO, fmt: str, options: ReaderOptions | None = None) -> Iterator[Record]:
    """The records of `stream` in file order; lazily, so nothing is read before the first `next`."""
    options = options or ReaderOptions()
    if fmt not in FORMATS:
        raise ImportFileError(f"Unknown import format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt in ("csv", "xlsx") and options.header_row < 1:
        raise ImportFileError(f"The header row must be 1 or more, not {options.header_row}")
    delimiter = options.delimiter
    if fmt == "csv" and delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ImportFileError(
            f"The CSV delimiter must be one character, not a quote or line break: {delimiter!r}"
        )
    readers = {
        "csv": _read_csv,
        "xlsx": _read_xlsx,
        "json": _read_json,
        "jsonl": _read_jsonl,
        "aas-json": _read_aas_json,
        "aasx": _read_aasx,
    }
    return readers[fmt](stream, options)


def count_records(
    stream: BinaryIO, fmt: str, options: ReaderOptions | None = None, limit: int | None = None
) -> int:
    """How many records `read_records` yields (error records included); with `limit`, counting
    stops at `limit + 1`, so a file far over the limit is refused without reading all of it."""
    records = read_records(stream, fmt, options)
    if limit is not None:
        records = itertools.islice(records, limit + 1)
    return sum(1 for _ in records)


# -- text streams -----------------------------------------------------------------------------


def _text(stream: BinaryIO, newline: str | None) -> io.TextIOWrapper:
    # utf-8-sig drops a byte order mark; surrogateescape defers bad bytes to _check_utf8.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline=newline)


def _release(text: io.TextIOWrapper) -> None:
    """Detach the wrapper, so the caller's stream is not closed along with it."""
    with contextlib.suppress(ValueError):  # already detached or closed
        text.detach()


def _check_utf8(pieces: Iterable[str], number: int, what: str = "Row") -> None:
    for piece in pieces:
        if _UNDECODABLE.search(piece):
            raise ImportFileError(f"{what} {number} is not valid UTF-8 text; save the file as UTF-8")


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


# -- header and cells -------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_name(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _columns(cells: Iterable[Any], number: int) -> tuple[str, ...]:
    """The column names of the header row; trailing blank cells are not columns."""
    names = [_header_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ImportFileError(f"Row {number} should hold the column names but is empty")
    blank = [str(position) for position, name in enumerate(names, start=1) if not name]
    if blank:
        raise ImportFileError(
            f"Row {number} (the header) has blank column names at positions {', '.join(blank)}"
        )
    seen: set[str] = set()
    duplicates: list[str] = []
    for name in names:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise ImportFileError(
            f"Row {number} (the header) names these columns more than once: {', '.join(duplicates)}"
        )
    return tuple(names)


def _row_record(columns: tuple[str, ...], cells: Sequence[Any], number: int) -> Record | None:
    """The record of one data row; None for a completely blank row."""
    if all(_is_blank(cell) for cell in cells):
        return None
    # Blank cells past the last column are harmless (trailing delimiters, formatted XLSX cells).
    extra = next(
        (position for position in range(len(columns), len(cells)) if not _is_blank(cells[position])), None
    )
    if extra is not None:
        return Record(
            number,
            error=f"the row has a value in cell {extra + 1} ({_shown(str(cells[extra]))!r}) but the "
            f"header names only {len(columns)} columns",
        )
    values = {
        name: cell for name, cell in zip(columns, cells, strict=False) if cell is not None and cell != ""
    }
    return Record(number, values)


# -- CSV --------------------------------------------------------------------------------------


def _read_csv(stream: BinaryIO, options: ReaderOptions) -> Iterator[Record]:
    text = _text(stream, newline="")
    try:
        head, header = _head_lines(text, options.header_row)
        delimiter = options.delimiter or _detect_delimiter(header)
        lines = itertools.chain(head, text)
        rows = _csv_rows(csv.reader(lines, delimiter=delimiter, strict=True), options.header_row)
        yield from _tabular_records(rows, options.header_row, "file")
    finally:
        _release(text)


def _head_lines(text: io.TextIOWrapper, header_row: int) -> tuple[list[str], str]:
    """The physical lines up to and including the header row, and the header row's text.

    A quoted cell's line breaks are followed, so the header text is the whole row even when it
    spans lines. The lines are fed to the CSV reader again afterwards.
    """
    lines: list[str] = []
    row_text = ""
    rows = 0
    while rows < header_row:
        line = text.readline()
        if not line:
            break
        lines.append(line)
        row_text += line
        # An odd number of quotes so far means a quoted cell continues on the next line.
        if row_text.count('"') % 2 == 0:
            rows += 1
            if rows < header_row:
                row_text = ""
    if rows < header_row:
        if not lines:
            raise ImportFileError("The file is empty")
        raise ImportFileError(f"The file ends before row {header_row}, the header row")
    return lines, row_text


def _detect_delimiter(header: str) -> str:
    """The candidate that occurs most often outside quotes in the header line; ',' if none does."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _csv_rows(rows: Iterator[list[str]], header_row: int) -> Iterator[tuple[int, list[str]] | Record]:
    """Numbered rows of cells; a row the CSV reader cannot parse becomes an error record."""
    number = 0
    while True:
        number += 1
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader resumes at the next line, so the rows after a broken one still count.
            if number > header_row:
                yield Record(number, error=f"the row cannot be parsed as CSV: {exc}")
                continue
            raise ImportFileError(f"Row {number} cannot be parsed as CSV: {exc}") from None
        _check_utf8(cells, number)
        # A failed-rows report uploaded again: its formula-looking cells were escaped (`'=...`).
        yield number, [unescaped(cell) for cell in cells]


def _tabular_records(
    rows: Iterable[tuple[int, Sequence[Any]] | Record], header_row: int, what: str
) -> Iterator[Record]:
    """Records of a sheet of rows (CSV or worksheet): the header row names the columns."""
    columns: tuple[str, ...] = ()
    for row in rows:
        if isinstance(row, Record):
            yield row
            continue
        number, cells = row
        if number < header_row:
            continue
        if number == header_row:
            columns = _columns(cells, number)
            continue
        record = _row_record(columns, cells, number)
        if record is not None:
            yield record
    if not columns:
        raise ImportFileError(f"The {what} ends before row {header_row}, the header row")


# -- XLSX -------------------------------------------------------------------------------------


def _read_xlsx(stream: BinaryIO, options: ReaderOptions) -> Iterator[Record]:
    source, spool = _seekable(stream)
    try:
        _check_workbook_size(source)
        try:
            workbook, strings = _open_workbook(source)
        except ImportFileError:
            raise
        except Exception as exc:  # openpyxl has no single error type for a broken workbook
            raise ImportFileError(f"The file is not a readable XLSX workbook ({_describe(exc)})") from None
        try:
            rows = enumerate(_sheet_rows(_worksheet(workbook, options.sheet)), start=1)
            yield from _tabular_records(rows, options.header_row, "worksheet")
        finally:
            workbook.close()
            strings.close()
    finally:
        if spool is not None:
            spool.close()


class DiskStrings:
    """A workbook's shared strings table in temporary files, looked up by index as openpyxl does
    for every text cell: UTF-8 texts end to end in one, their offsets (8 bytes each) in another."""

    def __init__(self) -> None:
        self._texts = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._offsets = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._count = 0
        self._end = 0
        self._lookup = functools.lru_cache(maxsize=_STRING_CACHE)(self._read)

    def append(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self._offsets.write(_OFFSET.pack(self._end))
        self._texts.write(data)
        self._end += len(data)
        self._count += 1

    def finish(self) -> None:
        self._offsets.write(_OFFSET.pack(self._end))  # where the last text ends

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self._count:
            raise IndexError(f"shared string {index} of {self._count}")
        return self._lookup(index)

    def _read(self, index: int) -> str:
        self._offsets.seek(index * _OFFSET.size)
        start, end = struct.unpack("<QQ", self._offsets.read(2 * _OFFSET.size))
        self._texts.seek(start)
        return self._texts.read(end - start).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        self._lookup.cache_clear()
        self._texts.close()
        self._offsets.close()


def read_shared_strings(table: BinaryIO, limit: int = MAX_SHARED_STRINGS) -> DiskStrings:
    """The shared strings of `table` (a workbook's xl/sharedStrings.xml) on disk, each text as
    openpyxl reads it; more than `limit` is refused as soon as the one past it is met."""
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    item = f"{{{SHEET_MAIN_NS}}}si"
    strings = DiskStrings()
    root = None
    try:
        for event, node in iterparse(table, events=("start", "end")):
            if root is None:
                root = node
            elif event == "end" and node.tag == item:
                if len(strings) >= limit:
                    raise ImportFileError(
                        f"The workbook holds more than {limit} distinct texts; at most {limit} "
                        "are read: split it"
                    )
                strings.append(Text.from_tree(node).content.replace("x005F_", ""))
                # Parsed items are dropped from the tree, which would otherwise keep one per text.
                root.clear()
        strings.finish()
    except BaseException:
        strings.close()
        raise
    return strings


def _open_workbook(source: BinaryIO) -> tuple[Any, DiskStrings]:
    """openpyxl's read-only workbook of `source`, with its shared strings on disk (returned too,
    to be closed with the workbook)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.xml.constants import SHARED_STRINGS as STRINGS_PART

    class _Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        # openpyxl looks for the sheet's declared dimensions when it opens it, and on a sheet
        # without them parses every row into a tree first; the rows are read without them anyway.
        def _get_size(self) -> None:
            pass

    class _Reader(ExcelReader):  # type: ignore[misc]
        # openpyxl's own read_strings builds a list of every text before the first row is read.
        def read_strings(self) -> None:
            part = self.package.find(STRINGS_PART)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as table:
                    self.shared_strings = read_shared_strings(table, MAX_SHARED_STRINGS)

        def read_worksheets(self) -> None:
            # Read-only worksheets, as openpyxl's own read_worksheets makes them (chart sheets
            # hold no rows and are left out).
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    worksheet = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                    worksheet.sheet_state = sheet.state
                    self.wb._sheets.append(worksheet)

    reader = _Reader(source, read_only=True, data_only=True)
    reader.shared_strings = DiskStrings()
    try:
        reader.read()
    except BaseException:
        reader.shared_strings.close()
        raise
    return reader.wb, reader.shared_strings


def _check_workbook_size(source: BinaryIO) -> None:
    """Refuse a workbook that unpacks to far more than it weighs (a zip bomb), or whose shared
    strings table declares more texts than are read; both are read from the zip directory and the
    table's first bytes, before anything is unpacked (an undeclared or wrong count is caught while
    the table is read, by `read_shared_strings`)."""
    import zipfile

    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
            unpacked = sum(entry.file_size for entry in entries)
            packed = sum(entry.compress_size for entry in entries) or 1
            if unpacked > MAX_XLSX_UNPACKED_BYTES or unpacked > MAX_XLSX_RATIO * packed:
                raise ImportFileError(
                    f"The workbook unpacks to {unpacked} bytes from {packed}: more than "
                    f"{MAX_XLSX_UNPACKED_BYTES} bytes or {MAX_XLSX_RATIO} times its size; split it"
                )
            strings = next((entry for entry in entries if entry.filename.lower() == SHARED_STRINGS), None)
            if strings is not None:
                with archive.open(strings) as table:
                    head = table.read(2048).decode("utf-8", "replace")
                declared = _UNIQUE_COUNT.search(head)
                if declared and int(declared.group(1)) > MAX_SHARED_STRINGS:
                    raise ImportFileError(
                        f"The workbook holds {declared.group(1)} distinct texts; at most "
                        f"{MAX_SHARED_STRINGS} are read: split it"
                    )
    except zipfile.BadZipFile:
        pass  # openpyxl says what is wrong with it
    finally:
        source.seek(0)


def _seekable(stream: BinaryIO) -> tuple[BinaryIO, Any]:
    """`stream` itself when it can seek, else a spooled copy (returned second, to be closed)."""
    seekable = getattr(stream, "seekable", None)
    if callable(seekable) and seekable():
        return stream, None
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY_BYTES)  # noqa: SIM115 - closed by the caller
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool, spool  # type: ignore[return-value]


def _worksheet(workbook: Any, sheet: str | None) -> Any:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    worksheets = workbook.worksheets
    if sheet is None:
        if not worksheets:
            raise ImportFileError("The workbook has no worksheet")
        worksheet = worksheets[0]
    else:
        names = [ws.title for ws in worksheets]
        if sheet not in names:
            raise ImportFileError(f"The workbook has no worksheet {sheet!r}; it has {', '.join(names)}")
        worksheet = workbook[sheet]
    if isinstance(worksheet, ReadOnlyWorksheet):
        # Some writers record wrong sheet dimensions; without them every stored cell is read.
        worksheet.reset_dimensions()
    return worksheet


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {_shown(str(exc))}" if str(exc) else type(exc).__name__


def _worksheet_values(worksheet: Any) -> Iterator[tuple[Any, ...]]:
    """What a read-only worksheet's `iter_rows(values_only=True)` yields (a missing row as an empty
    one), with openpyxl's own cell parsing, but without what its parser keeps of every row read:
    the emptied row elements stay in the XML tree, and row attributes (a height, a style) in a
    dictionary, which both grow with the sheet."""
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    sheet_data, row_tag = f"{{{SHEET_MAIN_NS}}}sheetData", f"{{{SHEET_MAIN_NS}}}row"
    book = worksheet.parent
    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            worksheet._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        rows = None
        expected = 1
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == sheet_data:
                    rows = element
                continue
            if element.tag != row_tag:
                continue
            number, cells = parser.parse_row(element)
            parser.row_dimensions.clear()
            if rows is not None:
                rows.clear()
            while expected < number:
                expected += 1
                yield ()
            if expected == number:
                expected += 1
                yield worksheet._get_row(cells, values_only=True)


def _sheet_rows(worksheet: Any) -> Iterator[tuple[Any, ...]]:
    """The worksheet's rows; a sheet whose XML breaks off midway is a file error."""
    rows = _worksheet_values(worksheet)
    number = 0
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # XML and ZIP errors from a damaged workbook
            raise ImportFileError(
                f"The worksheet cannot be read after row {number} ({_describe(exc)})"
            ) from None
        number += 1
        yield tuple(cells)


# -- JSON and JSON Lines ----------------------------------------------------------------------


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _json_text(stream: BinaryIO) -> str:
    data = stream.read()
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(f"Line {line} is not valid UTF-8 text; save the file as UTF-8") from None
    if not text.strip():
        raise ImportFileError("The file is empty")
    return text


def _parsed(text: str, max_depth: int) -> Any:
    try:
        return read_json(text, max_depth=max_depth)
    except JsonRejected as exc:
        raise ImportFileError(f"The file is not valid JSON: {exc.reason}") from None


def _read_json(stream: BinaryIO, options: ReaderOptions) -> Iterator[Record]:
    del options  # nothing to configure
    text = _json_text(stream)
    # An array of passports: one level more than a passport may have; an object: an AAS environment.
    items = _parsed(text, _AAS_MAX_DEPTH if text.lstrip()[:1] == "{" else MAX_DEPTH + 1)
    if aas_files.is_environment(items):
        del items  # BaSyx parses the text again into its own objects: one copy at a time
        _check_environment_size(len(text))
        store = _aas_store(aas_files.read_json_environment, text)
        del text
        yield from _aas_records(store)
        return
    if not isinstance(items, list):
        raise ImportFileError(
            f"A JSON import file must be an array of passports or an AAS environment, not {_json_kind(items)}"
        )
    for number, item in enumerate(items, start=1):
        yield _json_record(number, item, "item")


def _json_record(number: int, item: Any, what: str) -> Record:
    if not isinstance(item, dict):
        return Record(number, error=f"the {what} is {_json_kind(item)}, not a passport object")
    return Record(number, document=item)


def _read_jsonl(stream: BinaryIO, options: ReaderOptions) -> Iterator[Record]:
    del options  # nothing to configure
    text = _text(stream, newline=None)
    try:
        for number, line in enumerate(text, start=1):
            _check_utf8((line,), number, "Line")
            if not line.strip():
                continue
            try:
                item = read_json(line)
            except JsonRejected as exc:
                yield Record(number, error=f"the line is not valid JSON: {exc.reason}")
                continue
            yield _json_record(number, item, "line")
    finally:
        _release(text)


# -- Asset Administration Shell environments --------------------------------------------------


def _read_aas_json(stream: BinaryIO, options: ReaderOptions) -> Iterator[Record]:
    del options  # nothing to configure
    text = _json_text(stream)
    if not aas_files.is_environment(_parsed(text, _AAS_MAX_DEPTH)):
        members = ", ".join(aas_files.ENVIRONMENT_MEMBERS)
        raise ImportFileError(f"An AAS JSON file must be an AAS environment: an object with {members}")
    _check_environment_size(len(text))
    store = _aas_store(aas_files.read_json_environment, text)
    del text  # the environment's objects are what the rows are read from
    yield from _aas_records(store)


def _read_aasx(stream: BinaryIO, options: ReaderOptions) -> Iterator[Record]:
    del options  # nothing to configure
    source, spool = _seekable(stream)
    try:
        _check_package_size(source)
        store = _aas_store(aas_files.read_aasx_package, source)
        yield from _aas_records(store)
    finally:
        if spool is not None:
            spool.close()


def _check_environment_size(size: int) -> None:
    if size > MAX_AAS_BYTES:
        raise ImportFileError(
            f"The AAS environment is {size} bytes (characters) long; at most {MAX_AAS_BYTES} are read, "
            "since it is read whole: split it"
        )


def _aas_store(read: Callable[[Any], Any], source: Any) -> Any:
    """The environment `read(source)` returns; a file BaSyx cannot read is a file error."""
    try:
        return read(source)
    except aas_files.AasFileError as exc:
        raise ImportFileError(str(exc)) from None


def _aas_records(store: Any) -> Iterator[Record]:
    """A record per shell of the environment, its passport read as the record is (a shell that is
    no passport: an error record); an environment without shells is a file error."""
    shells = aas_files.passports(store)
    number = 0
    while True:
        try:
            document, error = next(shells)
        except StopIteration:
            return
        except aas_files.AasFileError as exc:
            raise ImportFileError(str(exc)) from None
        number += 1
        yield Record(number, error=error) if error else Record(number, document=document)


def _check_package_size(source: BinaryIO) -> None:
    """Refuse an AASX whose AAS parts unpack to more than MAX_AAS_BYTES, or which unpacks to
    far more than it weighs (a zip bomb), from the zip directory, before anything is unpacked."""
    import zipfile

    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise ImportFileError("The file is not an AASX package (not a ZIP archive)") from None
    finally:
        source.seek(0)
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    parts = sum(entry.file_size for entry in entries if entry.filename.lower().endswith((".json", ".xml")))
    if unpacked > MAX_XLSX_RATIO * packed:
        raise ImportFileError(
            f"The package unpacks to {unpacked} bytes from {packed}: more than {MAX_XLSX_RATIO} "
            "times its size; split it"
        )
    _check_environment_size(parts)
