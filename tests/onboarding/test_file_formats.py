"""Streaming readers of bulk import files: CSV, XLSX (built on the fly), JSON and JSON Lines."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font

from shared.onboarding.file_formats import (
    FORMATS,
    ImportFileError,
    ReaderOptions,
    Record,
    count_records,
    detect_format,
    read_records,
)


def records(data: bytes, fmt: str, **options: Any) -> list[Record]:
    return list(read_records(io.BytesIO(data), fmt, ReaderOptions(**options)))


class ChunkStream(io.RawIOBase):
    """A non-seekable binary stream fed by a generator, counting the bytes handed out."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = b""
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.consumed += size
        return size


# -- detect_format ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("products.csv", "csv"),
        ("EXPORT.CSV", "csv"),
        ("tab.tsv", "csv"),
        ("dir/sub.dir/products.xlsx", "xlsx"),
        ("C:\\exports\\products.XLSX", "xlsx"),
        ("passports.json", "json"),
        ("passports.jsonl", "jsonl"),
        ("passports.ndjson", "jsonl"),
        ("passport.AASX", "aasx"),
    ],
)
def test_detect_format_by_extension(name: str, expected: str) -> None:
    assert detect_format(name) == expected


def test_declared_format_wins_over_the_extension() -> None:
    assert detect_format("products.csv", "XLSX") == "xlsx"
    assert detect_format("no-extension", " jsonl ") == "jsonl"
    assert detect_format("products.csv", "") == "csv"


@pytest.mark.parametrize("name", ["products.xls", "products", "archive.tar.gz", ".csv.bak"])
def test_unknown_extension_is_a_file_error(name: str) -> None:
    with pytest.raises(ImportFileError, match="Cannot tell the format"):
        detect_format(name)


def test_unknown_declared_format_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="Unknown import format 'xml'"):
        detect_format("products.csv", "xml")


def test_read_records_refuses_unknown_format_and_header_row_zero() -> None:
    with pytest.raises(ImportFileError, match="Unknown import format"):
        read_records(io.BytesIO(b""), "xml")
    with pytest.raises(ImportFileError, match="header row must be 1 or more"):
        read_records(io.BytesIO(b"a\n1\n"), "csv", ReaderOptions(header_row=0))
    for delimiter in (";;", "", '"', "\n"):
        with pytest.raises(ImportFileError, match="delimiter must be one character"):
            read_records(io.BytesIO(b"a\n1\n"), "csv", ReaderOptions(delimiter=delimiter))
    assert FORMATS == ("csv", "xlsx", "json", "jsonl", "aas-json", "aasx")


# -- CSV --------------------------------------------------------------------------------------


def test_csv_rows_become_records_numbered_as_sheet_rows() -> None:
    got = records(b"sku,name,weight\nA-1,Shirt,180\nA-2,Hoodie,520\n", "csv")
    assert got == [
        Record(2, {"sku": "A-1", "name": "Shirt", "weight": "180"}),
        Record(3, {"sku": "A-2", "name": "Hoodie", "weight": "520"}),
    ]


def test_csv_byte_order_mark_is_dropped() -> None:
    got = records("\ufeffsku;name\nA-1;Shirt\n".encode(), "csv")
    assert got == [Record(2, {"sku": "A-1", "name": "Shirt"})]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("sku,name,colour", ","),
        ("sku;name;colour", ";"),
        ("sku\tname\tcolour", "\t"),
        ("sku|name|colour", "|"),
        # A comma inside a quoted column name does not count.
        ('"size, EU";sku;name', ";"),
        # More semicolons than commas: the most frequent candidate wins.
        ("a,b;c;d", ";"),
    ],
)
def test_csv_delimiter_is_detected_from_the_header(header: str, delimiter: str) -> None:
    columns = [name.strip('"') for name in header.split(delimiter)]
    row = delimiter.join(f"v{i}" for i in range(len(columns)))
    got = records(f"{header}\n{row}\n".encode(), "csv")
    assert got == [Record(2, {name: f"v{i}" for i, name in enumerate(columns)})]


def test_csv_single_column_file_uses_comma() -> None:
    assert records(b"sku\nA-1\nA-2\n", "csv") == [Record(2, {"sku": "A-1"}), Record(3, {"sku": "A-2"})]


def test_csv_explicit_delimiter_overrides_detection() -> None:
    # Detection would pick ',' (two of them); the option says ';'.
    got = records(b"a,b;c,d\n1,2;3,4\n", "csv", delimiter=";")
    assert got == [Record(2, {"a,b": "1,2", "c,d": "3,4"})]


def test_csv_quoted_cells_keep_delimiters_quotes_and_line_breaks() -> None:
    data = b'sku;description;name\r\nA-1;"Soft; light\r\nand ""breathable""";Shirt\r\nA-2;plain;Hoodie\r\n'
    got = records(data, "csv")
    assert got == [
        Record(2, {"sku": "A-1", "description": 'Soft; light\r\nand "breathable"', "name": "Shirt"}),
        # Row 3 of the sheet, although line 4 of the text: a quoted line break stays in its cell.
        Record(3, {"sku": "A-2", "description": "plain", "name": "Hoodie"}),
    ]


def test_csv_header_spanning_lines_is_read_whole_for_detection() -> None:
    got = records(b'"long\nname";sku\nx;1\n', "csv")
    assert got == [Record(2, {"long\nname": "x", "sku": "1"})]


def test_csv_blank_rows_are_skipped_but_counted() -> None:
    data = b"sku,name\n\nA-1,Shirt\n,\n , \nA-2,Hoodie\n\n"
    assert records(data, "csv") == [
        Record(3, {"sku": "A-1", "name": "Shirt"}),
        Record(6, {"sku": "A-2", "name": "Hoodie"}),
    ]


def test_csv_empty_cells_are_left_out() -> None:
    assert records(b"a,b,c\n1,,3\n,2,\n", "csv") == [Record(2, {"a": "1", "c": "3"}), Record(3, {"b": "2"})]


def test_csv_short_rows_lack_the_missing_cells() -> None:
    assert records(b"a,b,c\n1\n1,2\n", "csv") == [Record(2, {"a": "1"}), Record(3, {"a": "1", "b": "2"})]


def test_csv_long_row_is_an_error_record_and_reading_goes_on() -> None:
    got = records(b"a,b\n1,2,3\n4,5\n", "csv")
    assert got[0].number == 2
    assert got[0].values == {}
    assert got[0].error == "the row has a value in cell 3 ('3') but the header names only 2 columns"
    assert got[1] == Record(3, {"a": "4", "b": "5"})


def test_csv_trailing_empty_cells_beyond_the_header_are_harmless() -> None:
    assert records(b"a,b,\n1,2,,\n", "csv") == [Record(2, {"a": "1", "b": "2"})]


def test_csv_header_names_are_stripped() -> None:
    assert records(b" sku , name\t\nA-1,Shirt\n", "csv", delimiter=",") == [
        Record(2, {"sku": "A-1", "name": "Shirt"})
    ]


def test_csv_blank_column_names_are_a_file_error() -> None:
    with pytest.raises(
        ImportFileError, match=r"Row 1 \(the header\) has blank column names at positions 2, 4"
    ):
        records(b"a,,c, ,e\n1,2,3,4,5\n", "csv")


def test_csv_duplicate_column_names_are_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="more than once: sku, name"):
        records(b"sku,name,sku,name, sku\n", "csv")


def test_csv_empty_file_and_missing_header_are_file_errors() -> None:
    with pytest.raises(ImportFileError, match="The file is empty"):
        records(b"", "csv")
    with pytest.raises(ImportFileError, match="Row 1 should hold the column names but is empty"):
        records(b"\nsku\nA-1\n", "csv")
    with pytest.raises(ImportFileError, match="ends before row 3, the header row"):
        records(b"title\nsubtitle\n", "csv", header_row=3)


def test_csv_header_row_two_skips_a_title_line() -> None:
    data = b"Akeneo export 2025-06-15;;\nsku;name;size\nA-1;Shirt;M\n"
    assert records(data, "csv", header_row=2) == [Record(3, {"sku": "A-1", "name": "Shirt", "size": "M"})]


def test_csv_only_a_header_has_no_records() -> None:
    assert records(b"sku,name", "csv") == []


def test_csv_unparseable_row_is_an_error_record() -> None:
    got = records(b'a,b\n"x"y,1\n2,3\n', "csv")
    assert got[0].number == 2
    assert got[0].error is not None
    assert got[0].error.startswith("the row cannot be parsed as CSV")
    assert got[1] == Record(3, {"a": "2", "b": "3"})


def test_csv_non_utf8_byte_names_its_row() -> None:
    data = b"sku,name\nA-1,Shirt\nA-2,Gr\xfcn\nA-3,Hoodie\n"
    with pytest.raises(ImportFileError, match="Row 3 is not valid UTF-8"):
        records(data, "csv")


def test_csv_non_utf8_byte_far_into_the_file_names_its_row() -> None:
    # Far beyond the decoder's first read-ahead chunk.
    rows = b"".join(b"A-%d,Shirt\n" % n for n in range(2, 5002))
    data = b"sku,name\n" + rows + b"A-5002,Gr\xe4n\n"
    with pytest.raises(ImportFileError, match="Row 5002 is not valid UTF-8"):
        records(data, "csv")


def test_csv_multibyte_characters_split_across_chunks_decode() -> None:
    name = "Grün Ωmega 緑"
    body = "".join(f"{n},{name}\n" for n in range(3000))
    stream = ChunkStream(iter([byte.to_bytes(1, "big") for byte in f"n,name\n{body}".encode()]))
    got = list(read_records(stream, "csv"))  # type: ignore[arg-type]
    assert len(got) == 3000
    assert {record.values["name"] for record in got} == {name}


def test_csv_is_read_as_a_stream() -> None:
    total_rows = 50_000

    def chunks() -> Iterator[bytes]:
        yield b"sku,name\n"
        for n in range(total_rows):
            yield b"A-%d,Shirt %d\n" % (n, n)

    stream = ChunkStream(chunks())
    reader = read_records(stream, "csv")  # type: ignore[arg-type]
    assert stream.consumed == 0  # nothing is read before the first record is asked for
    first = next(reader)
    assert first == Record(2, {"sku": "A-0", "name": "Shirt 0"})
    total_bytes = len(b"sku,name\n") + sum(len(b"A-%d,Shirt %d\n" % (n, n)) for n in range(total_rows))
    assert stream.consumed < total_bytes // 10
    rest = list(reader)
    assert len(rest) == total_rows - 1
    assert rest[-1] == Record(
        total_rows + 1, {"sku": f"A-{total_rows - 1}", "name": f"Shirt {total_rows - 1}"}
    )
    assert stream.consumed == total_bytes


def test_reading_does_not_close_the_callers_stream() -> None:
    stream = io.BytesIO(b"a\n1\n")
    assert len(list(read_records(stream, "csv"))) == 1
    assert not stream.closed
    stream = io.BytesIO(b'{"a": 1}\n')
    assert len(list(read_records(stream, "jsonl"))) == 1
    assert not stream.closed


def test_count_records_counts_yielded_records() -> None:
    data = b"a,b\n1,2\n\n3,4,5\n6\n"
    assert count_records(io.BytesIO(data), "csv") == 3
    assert count_records(io.BytesIO(b'[{"a":1}, 2, {}]'), "json") == 3
    assert count_records(io.BytesIO(b"{}\n\nnot json\n"), "jsonl") == 2


# -- XLSX -------------------------------------------------------------------------------------


def workbook_bytes(sheets: dict[str, list[list[Any]]], styled_blank: tuple[str, str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if styled_blank:
        # A formatted but empty cell: stored in the file, read back as None.
        title, coordinate = styled_blank
        workbook[title][coordinate].font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_typed_cells_and_dates() -> None:
    data = workbook_bytes(
        {
            "Products": [
                ["sku", "weight", "pieces", "organic", "launched", "name"],
                ["A-1", 0.18, 2, True, datetime(2025, 6, 15), "Shirt"],
                ["A-2", 1.5, 10, False, datetime(2025, 1, 2, 13, 30), "Hoodie"],
            ]
        }
    )
    got = records(data, "xlsx")
    assert got == [
        Record(
            2,
            {
                "sku": "A-1",
                "weight": 0.18,
                "pieces": 2,
                "organic": True,
                "launched": datetime(2025, 6, 15),
                "name": "Shirt",
            },
        ),
        Record(
            3,
            {
                "sku": "A-2",
                "weight": 1.5,
                "pieces": 10,
                "organic": False,
                "launched": datetime(2025, 1, 2, 13, 30),
                "name": "Hoodie",
            },
        ),
    ]
    assert type(got[0].values["pieces"]) is int
    assert type(got[0].values["organic"]) is bool


def test_xlsx_first_sheet_is_the_default_and_a_named_sheet_can_be_chosen() -> None:
    data = workbook_bytes({"Notes": [["note"], ["hello"]], "Products": [["sku"], ["A-1"]]})
    assert records(data, "xlsx") == [Record(2, {"note": "hello"})]
    assert records(data, "xlsx", sheet="Products") == [Record(2, {"sku": "A-1"})]


def test_xlsx_unknown_sheet_lists_the_sheets() -> None:
    data = workbook_bytes({"Notes": [["note"]], "Products": [["sku"]]})
    with pytest.raises(ImportFileError, match="no worksheet 'Sheet1'; it has Notes, Products"):
        records(data, "xlsx", sheet="Sheet1")


def test_xlsx_header_row_two_blank_rows_and_empty_cells() -> None:
    data = workbook_bytes(
        {
            "Products": [
                ["Product export, June 2025"],
                ["sku", "name", "size"],
                ["A-1", None, "M"],
                [None, None, None],
                ["A-2", "", "L"],
                ["A-3", "Hoodie"],
            ]
        }
    )
    assert records(data, "xlsx", header_row=2) == [
        Record(3, {"sku": "A-1", "size": "M"}),
        Record(5, {"sku": "A-2", "size": "L"}),
        Record(6, {"sku": "A-3", "name": "Hoodie"}),
    ]


def test_xlsx_rows_missing_from_the_file_are_still_counted() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "sku"
    sheet["A5"] = "A-1"  # rows 2-4 are not stored at all
    out = io.BytesIO()
    workbook.save(out)
    assert records(out.getvalue(), "xlsx") == [Record(5, {"sku": "A-1"})]


def test_xlsx_formatted_blank_header_cells_are_not_columns() -> None:
    data = workbook_bytes({"Products": [["sku", "name"], ["A-1", "Shirt"]]}, styled_blank=("Products", "D1"))
    assert records(data, "xlsx") == [Record(2, {"sku": "A-1", "name": "Shirt"})]


def test_xlsx_header_names_are_text_and_checked() -> None:
    data = workbook_bytes({"S": [[" sku ", 2025, 1.0], ["A-1", "x", "y"]]})
    assert records(data, "xlsx") == [Record(2, {"sku": "A-1", "2025": "x", "1": "y"})]
    with pytest.raises(ImportFileError, match="more than once: sku"):
        records(workbook_bytes({"S": [["sku", "sku "]]}), "xlsx")
    with pytest.raises(ImportFileError, match="blank column names at positions 2"):
        records(workbook_bytes({"S": [["sku", None, "name"]]}), "xlsx")


def test_xlsx_value_beyond_the_header_is_an_error_record() -> None:
    data = workbook_bytes({"S": [["sku", "name"], ["A-1", "Shirt", "extra"], ["A-2", "Hoodie"]]})
    got = records(data, "xlsx")
    assert got[0] == Record(
        2, error="the row has a value in cell 3 ('extra') but the header names only 2 columns"
    )
    assert got[1] == Record(3, {"sku": "A-2", "name": "Hoodie"})


def test_xlsx_wrong_recorded_dimensions_do_not_hide_cells() -> None:
    data = workbook_bytes({"Products": [["sku", "name"], ["A-1", "Shirt"], ["A-2", "Hoodie"]]})
    # Some writers record a too small used range (here A1 only); every stored cell is still read.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # openpyxl writes `<dimension ref="A1:B3" />`, or without the space when lxml
                # is installed (BaSyx brings it): either spelling.
                content, found = re.subn(rb'<dimension ref="A1:B3"\s*/>', b'<dimension ref="A1" />', content)
                assert found == 1
            target.writestr(item, content)
    assert records(out.getvalue(), "xlsx") == [
        Record(2, {"sku": "A-1", "name": "Shirt"}),
        Record(3, {"sku": "A-2", "name": "Hoodie"}),
    ]


def test_xlsx_from_a_non_seekable_stream_is_spooled() -> None:
    data = workbook_bytes({"Products": [["sku", "weight"], ["A-1", 180], ["A-2", 520]]})
    stream = ChunkStream(iter([data[i : i + 1000] for i in range(0, len(data), 1000)]))
    assert not stream.seekable()
    got = list(read_records(stream, "xlsx"))  # type: ignore[arg-type]
    assert got == [Record(2, {"sku": "A-1", "weight": 180}), Record(3, {"sku": "A-2", "weight": 520})]
    assert stream.consumed == len(data)


def test_not_a_workbook_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="not a readable XLSX workbook"):
        records(b"sku,name\nA-1,Shirt\n", "xlsx")


def test_xlsx_empty_sheet_has_no_header() -> None:
    with pytest.raises(ImportFileError, match="ends before row 1, the header row"):
        records(workbook_bytes({"Empty": []}), "xlsx")


# -- JSON -------------------------------------------------------------------------------------


def test_json_array_items_are_records() -> None:
    data = b'[{"digitalProductPassportId": "a"}, {"digitalProductPassportId": "b", "n": 1.5}]'
    assert records(data, "json") == [
        Record(1, document={"digitalProductPassportId": "a"}),
        Record(2, document={"digitalProductPassportId": "b", "n": 1.5}),
    ]


def test_json_byte_order_mark_is_dropped() -> None:
    assert records("\ufeff[{}]".encode(), "json") == [Record(1, document={})]


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b'{"a": 1}', "an object"), (b'"text"', "a string"), (b"42", "a number"), (b"null", "null")],
)
def test_json_that_is_not_an_array_is_a_file_error(data: bytes, kind: str) -> None:
    with pytest.raises(
        ImportFileError, match=f"must be an array of passports or an AAS environment, not {kind}"
    ):
        records(data, "json")


def test_json_item_that_is_not_an_object_is_an_error_record() -> None:
    got = records(b'[{"a": 1}, [1, 2], true, {"b": 2}]', "json")
    assert got == [
        Record(1, document={"a": 1}),
        Record(2, error="the item is an array, not a passport object"),
        Record(3, error="the item is a boolean, not a passport object"),
        Record(4, document={"b": 2}),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "The file is empty"),
        (b"  \n", "The file is empty"),
        (b'[{"a": 1},', "not valid JSON"),
        (b'[{"a": NaN}]', "NaN is not a JSON number"),
        (b'[{"a": -Infinity}]', "-Infinity is not a JSON number"),
        (b'[{"a": 1e400}]', "beyond the range of a number"),
        (b'[\n{"name": "Gr\xfcn"}]', "Line 2 is not valid UTF-8"),
    ],
)
def test_json_file_errors(data: bytes, reason: str) -> None:
    with pytest.raises(ImportFileError, match=reason):
        records(data, "json")


# -- JSON Lines -------------------------------------------------------------------------------


def test_jsonl_bad_line_is_an_error_record_and_reading_goes_on() -> None:
    data = b'\xef\xbb\xbf{"id": "a"}\r\n\r\n{"id": \n["x"]\n{"n": NaN}\n{"id": "b"}'
    got = records(data, "jsonl")
    assert got[0] == Record(1, document={"id": "a"})
    assert got[1].number == 3
    assert got[1].error is not None
    assert got[1].error.startswith("the line is not valid JSON: Expecting value")
    assert got[2] == Record(4, error="the line is an array, not a passport object")
    assert got[3] == Record(5, error="the line is not valid JSON: NaN is not a JSON number")
    assert got[4] == Record(6, document={"id": "b"})
    assert len(got) == 5


def test_jsonl_non_utf8_line_is_a_file_error_naming_it() -> None:
    with pytest.raises(ImportFileError, match="Line 3 is not valid UTF-8"):
        records(b'{"a": 1}\n{"a": 2}\n{"a": "\xc3"}\n', "jsonl")


def test_json_nested_too_deeply_is_refused_not_a_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ImportFileError, match="nested deeper than 33 levels"):
        records(deep, "json")
    got = records(b'{"a": 1}\n' + deep + b"\n" + b'{"b": 2}\n', "jsonl")
    assert got == [
        Record(1, document={"a": 1}),
        Record(2, error="the line is not valid JSON: nested deeper than 32 levels"),
        Record(3, document={"b": 2}),
    ]


def test_jsonl_is_read_as_a_stream() -> None:
    total = 20_000

    def chunks() -> Iterator[bytes]:
        for n in range(total):
            yield b'{"digitalProductPassportId": "urn:x:%d"}\n' % n

    stream = ChunkStream(chunks())
    reader = read_records(stream, "jsonl")  # type: ignore[arg-type]
    assert next(reader) == Record(1, document={"digitalProductPassportId": "urn:x:0"})
    total_bytes = sum(len(b'{"digitalProductPassportId": "urn:x:%d"}\n' % n) for n in range(total))
    assert stream.consumed < total_bytes // 10
    assert sum(1 for _ in reader) == total - 1


# -- workbook bombs (issue 14: 3 M shared strings in 125 KB took 71 s and 260 MB) --------------------


def _workbook(rows: int = 2) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["sku", "name"])
    for number in range(rows):
        sheet.append([f"sku-{number}", f"name {number}"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewritten(data: bytes, name: str, content: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            target.writestr(entry, content if entry.filename == name else source.read(entry.filename))
        if name not in source.namelist():
            target.writestr(name, content)
    return out.getvalue()


def test_a_workbook_declaring_millions_of_shared_strings_is_refused_before_reading() -> None:
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="3000000" uniqueCount="3000000">' + b"<si><t>x</t></si>" * 3 + b"</sst>"
    )
    bomb = _rewritten(_workbook(), "xl/sharedStrings.xml", strings)
    # Refused for what the table declares: it holds three texts, so reading it would pass.
    with pytest.raises(ImportFileError, match="3000000 distinct texts"):
        records(bomb, "xlsx")


def test_a_workbook_that_unpacks_to_far_more_than_it_weighs_is_refused() -> None:
    bomb = _rewritten(_workbook(), "xl/media/padding.bin", b"\0" * 60_000_000)
    with pytest.raises(ImportFileError, match="unpacks to"):
        records(bomb, "xlsx")


def test_an_ordinary_workbook_still_reads() -> None:
    assert [record.values for record in records(_workbook(3), "xlsx")] == [
        {"sku": f"sku-{n}", "name": f"name {n}"} for n in range(3)
    ]


def test_counting_stops_just_past_the_limit() -> None:
    from shared.onboarding.file_formats import count_records

    data = ("sku\n" + "".join(f"row-{n}\n" for n in range(5000))).encode()
    assert count_records(io.BytesIO(data), "csv") == 5000
    assert count_records(io.BytesIO(data), "csv", limit=10) == 11
