"""Files for office staff, in and out: downloads with their names, workbooks to write, upload names.

Every workbook and CSV the service writes goes through `inert_text` for its text cells, and every
upload's name through `clean_upload_name`, so both rules live in one place.
"""

import io
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

import errors

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
    return workbook, sheet


def xlsx_download(workbook: Any, file_name: str) -> Download:
    """An openpyxl workbook as a download named `file_name`."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Download(buffer.getvalue(), XLSX_TYPE, file_name)
