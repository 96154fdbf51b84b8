"""Open an uploaded workbook safely and find its PRM sheet. Raises `FileProblem` for bad files."""

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from prm.columns import HEADER_SCAN_ROWS, REQUIRED_FIELDS, HeaderMatch, find_header

# A real sheet's XML inflates 5-30x; a zip bomb inflates by thousands.
MAX_INFLATE_RATIO = 200
MAX_INFLATED_BYTES = 4 * 1024**3
REQUIRED_TITLES = {
    "imei1": "IMEI1", "goods_id": "Goods ID", "product_name": "Product Name", "status": "Status",
    "retailer_code": "Retailer ID", "retailer_name": "Retailer Name",
}


class FileProblem(Exception):
    """The file as a whole cannot be imported; `status` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def describe_non_xlsx(data: bytes) -> str | None:
    """What the bytes look like when they are not an .xlsx; None when they may be one."""
    if not data.strip():
        return "is empty"
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return None
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if "EncryptedPackage".encode("utf-16-le") in data[:1_000_000] or b"EncryptedPackage" in data[:1_000_000]:
            return "is password-protected; save it again in Excel without a password"
        return "is an old Excel .xls file; open it in Excel and save it as .xlsx"
    if head.startswith(b"%PDF"):
        return "is a PDF, not an Excel workbook"
    if head.startswith((b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        return "is a compressed archive, not an Excel workbook"
    sample = data[:4096]
    if sample.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        return "is an HTML or XML page (some portals save those with an .xls name); export the report as .xlsx"
    try:
        text = sample.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "is not an Excel workbook (unrecognised binary content)"
    if "," in text or "\t" in text or ";" in text:
        return "is a CSV/text file; open it in Excel and save it as .xlsx"
    return "is a text file, not an Excel workbook"


def check_zip_is_sane(data: bytes) -> None:
    """Refuse a zip bomb from its directory, before inflating anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise FileProblem(f"is damaged and cannot be opened ({exc})", 400) from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        raise FileProblem("is a zip archive but not an Excel workbook", 415)
    if "EncryptedPackage" in names:
        raise FileProblem("is password-protected; save it again in Excel without a password", 400)
    total = sum(info.file_size for info in infos)
    if total > MAX_INFLATED_BYTES:
        raise FileProblem(f"would inflate to {total // 1024**2} MB, more than this service reads", 413)
    for info in infos:
        if info.file_size > 1024**2 and info.file_size > MAX_INFLATE_RATIO * max(info.compress_size, 1):
            raise FileProblem(
                f"has a part ({info.filename}) that inflates {info.file_size // max(info.compress_size, 1)}x; "
                "it looks like a zip bomb and was not read", 413)


@dataclass
class PrmSheet:
    name: str
    header: HeaderMatch
    rows: Iterator[tuple[int, list[Any]]]  # (Excel row number, cells) after the header
    last_row: int  # Excel number of the last used row, for progress


def _missing_titles(header: HeaderMatch | None) -> str:
    missing = header.missing if header else list(REQUIRED_FIELDS)
    return ", ".join(REQUIRED_TITLES[name] for name in missing)


def open_prm_sheet(data: bytes) -> PrmSheet:
    """The first sheet whose first 30 rows hold a header with every required column."""
    problem = describe_non_xlsx(data)
    if problem:
        status = 400 if "password" in problem or problem == "is empty" else 415
        raise FileProblem(problem, status)
    check_zip_is_sane(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError as exc:
        raise FileProblem(f"is damaged or not a readable workbook ({exc})", 400) from None
    except Exception as exc:  # calamine raises its own zip/XML errors for broken parts
        raise FileProblem(f"is damaged or not a readable workbook ({type(exc).__name__}: {exc})", 400) from None

    explanations = []
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            row_iter = iter(sheet.iter_rows())
            head: list[list[Any]] = []
            for cells in row_iter:
                head.append(cells)
                if len(head) >= HEADER_SCAN_ROWS:
                    break
        except Exception as exc:
            raise FileProblem(f"has a sheet {name!r} that cannot be read ({exc})", 400) from None
        if not any(any(cell not in (None, "") for cell in cells) for cells in head):
            explanations.append(f"sheet {name!r} is empty")
            continue
        header, closest = find_header(head)
        if header is None:
            found = [text for text in (closest.headers if closest else []) if text]
            explanations.append(
                f"sheet {name!r} has no header row with {_missing_titles(closest)} in its first "
                f"{HEADER_SCAN_ROWS} rows (closest row {closest.row_index + 1 if closest else 1} has: "
                f"{', '.join(found[:20]) or 'nothing'})")
            continue
        if header.clashes:
            clash = "; ".join(f"{', '.join(found)} all mean {REQUIRED_TITLES.get(field, field)}"
                              for field, found in header.clashes.items())
            raise FileProblem(f"sheet {name!r} row {header.row_index + 1} has two columns for one field: {clash}")
        after = head[header.row_index + 1:]
        start = header.row_index + 2

        def rows(after: list[list[Any]] = after, start: int = start, rest: Iterator[list[Any]] = row_iter) -> Iterator[tuple[int, list[Any]]]:
            number = start
            for cells in after:
                yield number, cells
                number += 1
            for cells in rest:
                yield number, cells
                number += 1

        return PrmSheet(name=name, header=header, rows=rows(), last_row=sheet.end[0] + 1 if sheet.end else 0)
    if all(text.endswith("is empty") for text in explanations):
        raise FileProblem("has no data: every sheet is empty")
    raise FileProblem("has no sheet with a PRM header: " + "; ".join(explanations))
