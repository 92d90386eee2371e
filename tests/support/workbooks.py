"""XLSX workbooks as Excel writes them, with a shared strings table (openpyxl writes inline strings
instead, which no export from a PIM or from Excel does): one worksheet, texts and numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = (
    ("/xl/workbook.xml", "sheet.main"),
    ("/xl/worksheets/sheet1.xml", "worksheet"),
    ("/xl/sharedStrings.xml", "sharedStrings"),
)
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    + "".join(f'<Override PartName="{part}" ContentType="{_OOXML}.{kind}+xml"/>' for part, kind in _PARTS)
    + "</Types>"
)


def _relationships(*targets: tuple[str, str]) -> str:
    listed = "".join(
        f'<Relationship Id="rId{n}" Type="{_DOC_RELS}/{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_DECLARATION}<Relationships xmlns="{_RELS}">{listed}</Relationships>'


_ROOT_RELS = _relationships(("officeDocument", "xl/workbook.xml"))
_WORKBOOK_RELS = _relationships(
    ("worksheet", "worksheets/sheet1.xml"), ("sharedStrings", "sharedStrings.xml")
)
_WORKBOOK = (
    f'{_DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{_DOC_RELS}">'
    '<sheets><sheet name="Products" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_workbook(
    out: BinaryIO, rows: Iterable[Sequence[str | int | float]], *, declare: bool = True
) -> None:
    """`rows` (the first one the header) as a workbook into `out`; texts go to the shared strings
    table, which declares its counts unless `declare` is False."""
    import zipfile

    strings: dict[str, int] = {}
    uses = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><sheetData>'.encode()
            )
            for number, row in enumerate(rows, start=1):
                cells = []
                for position, value in enumerate(row):
                    ref = f"{_column(position)}{number}"
                    if isinstance(value, str):
                        index = strings.setdefault(value, len(strings))
                        uses += 1
                        cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                sheet.write(f'<row r="{number}">{"".join(cells)}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        counts = f' count="{uses}" uniqueCount="{len(strings)}"' if declare else ""
        with archive.open("xl/sharedStrings.xml", "w") as table:
            table.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}"{counts}>'.encode())
            for text in strings:
                table.write(f'<si><t xml:space="preserve">{escape(text)}</t></si>'.encode())
            table.write(b"</sst>")
