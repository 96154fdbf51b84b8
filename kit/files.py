"""Files for office staff, in and out: downloads with their names, workbooks to write, upload names.

Every workbook and CSV the service writes goes through here: `inert_text` for its text cells,
`put_rupees` for amounts (Indian grouping, negatives too), `put_ist_time` for times (real Excel
dates in IST), `print_setup` for how a sheet prints, `csv_download` for a CSV Excel opens with
its ₹ and Hindi names intact; and every upload's name through `clean_upload_name`.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO

import errors
from kit.cells import IST

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
MAX_FILE_NAME_CHARS = 255
# OWASP's CSV-injection list: a cell starting with one of these runs as a formula in Excel. Text
# that already starts with apostrophes before one of them gets one more, so that reading a cell
# back (`from_inert_text`) gives exactly the text that was written, whatever it was.
_NEEDS_QUOTE = re.compile("'*[=+\\-@\t\r]")
_PATH_CHARACTERS = frozenset("/\\:") | frozenset(chr(code) for code in range(32))


@dataclass(frozen=True)
class Download:
    """A file for the browser to save: its bytes, type and the name it is saved under."""

    content: bytes
    media_type: str
    file_name: str


def upload_bytes(data: bytes | BinaryIO) -> bytes:
    """An upload's bytes, given as bytes or as the file it was spooled to (read here, off the event loop)."""
    return data if isinstance(data, bytes) else data.read()


def inert_text(value: str) -> str:
    """Text a spreadsheet shows as written and never runs as a formula: `=1+1` becomes `'=1+1`."""
    return "'" + value if _NEEDS_QUOTE.match(value) else value


def from_inert_text(value: str) -> str:
    """The text that `inert_text` was given, from a cell of a workbook we wrote: `'=1+1` -> `=1+1`.

    Only an apostrophe that `inert_text` would have added is taken off; `'abc` stays as it is.
    """
    return value[1:] if value.startswith("'") and _NEEDS_QUOTE.match(value, 1) else value


def clean_upload_name(name: str | None, *, default: str) -> str:
    """The uploaded file's name, for messages and the run log; a name with path characters is refused."""
    name = (name or "").strip()
    if not name:
        return default
    if any(char in _PATH_CHARACTERS for char in name) or ".." in name or name in (".", ".."):
        raise errors.BadRequest(
            f"The file name {name[:100]!r} contains path characters; rename the file (e.g. {default}) and upload it again.",
            [errors.item(["file"], "file name must not contain / \\ : or ..")])
    return name[:MAX_FILE_NAME_CHARS]


def header_sheet(title: str, header: list[str]) -> tuple[Any, Any]:
    """A new workbook whose first sheet has a bold, frozen header row: (workbook, sheet)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    print_setup(sheet, title=title, header_row=1)
    return workbook, sheet


def xlsx_download(workbook: Any, file_name: str) -> Download:
    """An openpyxl workbook as a download named `file_name`."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Download(buffer.getvalue(), XLSX_TYPE, file_name)


def rupee_format(amount: Decimal | int | None, *, symbol: bool = True) -> str:
    """An Excel number format showing `amount` in Indian grouping: ₹1,23,45,678.90, -₹25,43,378.70.

    Excel's formats group in thousands and allow only two conditions, too few for thousands,
    lakhs and crores of both signs; a format without `,` grouping, whose commas are literal
    characters at the positions this amount's digits need, renders the same in Excel and
    LibreOffice, and a one-section format puts the minus sign in front by itself.
    """
    digits = len(str(abs(int(amount or 0))))
    places = "#" * (digits - 1) + "0"
    grouped = places[-3:]
    rest = places[:-3]
    while rest:
        grouped, rest = rest[-2:] + "\\," + grouped, rest[:-2]
    return ('"₹"' if symbol else "") + grouped + ".00"


def put_rupees(cell: Any, amount: Decimal | None, *, symbol: bool = True) -> None:
    """Write an amount as a number (so sums work) shown in Indian grouping."""
    cell.value = amount
    if amount is not None:
        cell.number_format = rupee_format(amount, symbol=symbol)


IST_TIME_FORMAT = "dd-mm-yyyy hh:mm"


def put_ist_time(cell: Any, moment: datetime | None) -> None:
    """Write a moment as a real Excel date-time in IST (Excel has no time zones)."""
    cell.value = None if moment is None else moment.astimezone(IST).replace(tzinfo=None)
    cell.number_format = IST_TIME_FORMAT


def ist_text(moment: datetime | None) -> str:
    """A moment as people in the office write it: 27-11-2026 18:05 (IST)."""
    return "" if moment is None else moment.astimezone(IST).strftime("%d-%m-%Y %H:%M")


def print_setup(sheet: Any, *, title: str, header_row: int | None = None) -> None:
    """Print landscape on A4, one page wide, the header row again on every page, the title and
    page numbers in the page header and footer."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if header_row:
        sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.oddHeader.center.text = title.replace("&", "&&")  # & starts a field code in page headers
    sheet.oddFooter.center.text = "Page &P of &N"


def csv_download(rows: list[list[Any]], file_name: str) -> Download:
    """Rows as a CSV that Excel on Windows opens as UTF-8 (the BOM), amounts with two places,
    text made inert like every workbook cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for values in rows:
        writer.writerow([f"{value:.2f}" if isinstance(value, Decimal) else inert_text(value) if isinstance(value, str)
                         else value for value in values])
    return Download(("\ufeff" + buffer.getvalue()).encode("utf-8"), CSV_TYPE, file_name)
