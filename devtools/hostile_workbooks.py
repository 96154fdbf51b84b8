"""Small .xlsx files built by hand to hurt a spreadsheet reader, for the tests and benchmarks.

Each is a real zip with the parts Excel writes, but a sheet whose cell references or declared
size make a reader allocate a grid of the whole range (a few KB asking for hundreds of GB), or
whose references are malformed. `HOSTILE_WORKBOOKS` names them; `build(name)` gives the bytes.

    python devtools/hostile_workbooks.py OUT_DIR    # writes every one, for trying by hand
"""

import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
_SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}'
    '<sheetData>{rows}</sheetData></worksheet>')
HEADER = ("IMEI1", "Goods ID", "Status")


def _row(number: int | str, cells: list[tuple[str | None, str]]) -> str:
    parts = "".join(f'<c{"" if ref is None else f" r={chr(34)}{ref}{chr(34)}"} t="inlineStr"><is><t>{text}</t></is></c>'
                    for ref, text in cells)
    return f'<row r="{number}">{parts}</row>'


def workbook_bytes(sheets: list[str]) -> bytes:
    """A zip holding `sheets` (each a worksheet's XML) as sheet1, sheet2, ..."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        numbers = range(1, len(sheets) + 1)
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in numbers)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(
            sheets="".join(f'<sheet name="Sheet{n}" sheetId="{n}" r:id="rId{n}"/>' for n in numbers)))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(rels="".join(_SHEET_REL.format(n=n) for n in numbers)))
        for n, sheet in zip(numbers, sheets):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", sheet)
    return buffer.getvalue()


def sheet_xml(rows: list[str], *, dimension: str | None = None) -> str:
    return _SHEET.format(dimension=f'<dimension ref="{dimension}"/>' if dimension else "", rows="".join(rows))


def _header_then(ref: str, row: int | str) -> bytes:
    """A proper header row, then one cell at `ref` (on row `row`)."""
    return workbook_bytes([sheet_xml([_row(1, [(f"{col}1", text) for col, text in zip("ABC", HEADER)]),
                                      _row(row, [(ref, "x")])])])


def _far_dimension() -> bytes:
    return workbook_bytes([sheet_xml([_row(1, [(f"{col}1", text) for col, text in zip("ABC", HEADER)])],
                                     dimension="A1:XFD1048576")])


def _many_cells_without_references() -> bytes:
    cells = [(None, "x")] * 5_000
    return workbook_bytes([sheet_xml([_row(1, [(None, text) for text in HEADER]), _row(2, cells)])])


def _far_second_sheet() -> bytes:
    good = sheet_xml([_row(1, [(f"{col}1", text) for col, text in zip("ABC", HEADER)])])
    bad = sheet_xml([_row(1, [("A1", "a")]), _row(1048576, [("XFD1048576", "b")])])
    return workbook_bytes([bad, good])


HOSTILE_WORKBOOKS: dict[str, Callable[[], bytes]] = {
    "far-corner": lambda: _header_then("XFD1048576", 1048576),
    "wide-row": lambda: _header_then("XFD2", 2),
    "deep-column": lambda: _header_then("A1048576", 1048576),
    "inside-each-cap": lambda: _header_then("GR1048576", 1048576),  # 220 million cells in all
    "row-zero": lambda: _header_then("A0", 2),
    "letters-only": lambda: _header_then("ABC", 2),
    "long-column": lambda: _header_then("ZZZZZZZZZZ1", 2),
    "negative-row": lambda: _header_then("A-5", 2),
    "row-2-to-32": lambda: _header_then(f"A{2**32}", 2),
    "row-number-2-to-32": lambda: _header_then("A2", 2**32),
    "far-dimension": _far_dimension,
    "cells-without-references": _many_cells_without_references,
    "far-second-sheet": _far_second_sheet,
}


def build(name: str) -> bytes:
    return HOSTILE_WORKBOOKS[name]()


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for hostile_name in HOSTILE_WORKBOOKS:
        (out / f"{hostile_name}.xlsx").write_bytes(build(hostile_name))
        print(out / f"{hostile_name}.xlsx")
