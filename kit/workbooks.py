"""Open an uploaded .xlsx safely and find a header row by column names; start a workbook to write.

Used by the PRM import, the price-list and the mapping-sheet uploads; every file passes
`kit.workbook_gate` before calamine sees it. Raises `FileProblem` for a file that cannot
be used as a whole, with the HTTP status that fits.
"""

import io
import itertools
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_calamine import CalamineError, CalamineWorkbook

from kit.workbook_gate import FileProblem, WorkbookLimits, check_workbook

__all__ = ["FileProblem", "HeaderSpec", "Sheet", "WorkbookLimits", "open_sheet", "spooled_upload"]

log = logging.getLogger("dist.workbooks")

HEADER_SCAN_ROWS = 30
_HEADER_PUNCTUATION = re.compile(r"[_\-./()#]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class HeaderSpec:
    """The columns a sheet must or may have, each with the header spellings accepted."""

    aliases: dict[str, tuple[str, ...]]  # field -> normalised header variants
    required: tuple[str, ...]
    titles: dict[str, str]  # field -> the name shown to people

    @property
    def by_header(self) -> dict[str, str]:
        """Normalised header -> field."""
        return {alias: name for name, variants in self.aliases.items() for alias in variants}


def normalise_header(value: Any) -> str:
    """Trim, lowercase, fold `_ - . / ( ) #` and runs of spaces: "IMEI No." -> "imei no"."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return _SPACES.sub(" ", _HEADER_PUNCTUATION.sub(" ", text.strip().lower())).strip()


@dataclass
class HeaderMatch:
    """The header row of a sheet and where each field's column is."""

    row_index: int  # 0-based within the rows read
    columns: dict[str, int]  # field -> 0-based column index
    headers: list[str]  # header text as written in the file
    required: tuple[str, ...]
    ignored: list[str] = field(default_factory=list)
    clashes: dict[str, list[str]] = field(default_factory=dict)  # field -> headers that all map to it

    @property
    def missing(self) -> list[str]:
        return [name for name in self.required if name not in self.columns]


def match_header_row(cells: list[Any], row_index: int, spec: HeaderSpec) -> HeaderMatch:
    by_header = spec.by_header
    headers = ["" if cell is None else str(cell).strip() for cell in cells]
    columns: dict[str, int] = {}
    seen: dict[str, list[str]] = {}
    ignored = []
    for index, header in enumerate(headers):
        if not header:
            continue
        name = by_header.get(normalise_header(header))
        if name is None:
            ignored.append(header)
            continue
        seen.setdefault(name, []).append(header)
        columns.setdefault(name, index)
    clashes = {name: found for name, found in seen.items() if len(found) > 1}
    return HeaderMatch(row_index=row_index, columns=columns, headers=headers, required=spec.required,
                       ignored=ignored, clashes=clashes)


def find_header(rows: list[list[Any]], spec: HeaderSpec) -> tuple[HeaderMatch | None, HeaderMatch | None]:
    """(the header row, or None; the closest candidate, to explain a failure)."""
    best: HeaderMatch | None = None
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        candidate = match_header_row(cells, index, spec)
        if not candidate.missing:
            return candidate, candidate
        if best is None or len(candidate.columns) > len(best.columns):
            best = candidate
    return None, best


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


@dataclass
class Sheet:
    name: str
    header: HeaderMatch
    rows: Iterator[tuple[int, list[Any]]]  # (Excel row number, cells) after the header
    last_row: int  # Excel number of the last used row, for progress


Source = bytes | Path  # an upload in memory, or a file on disk (large uploads are spooled there)
SNIFF_BYTES = 1_000_000


def open_workbook(source: Source, limits: WorkbookLimits) -> CalamineWorkbook:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    else:
        head = source[:SNIFF_BYTES]
    problem = describe_non_xlsx(head)
    if problem:
        raise FileProblem(problem, 400 if "password" in problem or problem == "is empty" else 415)
    check_workbook(source, limits)  # before calamine sizes anything from the file's own claims
    try:
        # From a path calamine reads the zip from disk: about 0.1 GB less at the peak for a
        # 500,000-row export than handing it the bytes (bench/bench_import.py).
        if isinstance(source, Path):
            return CalamineWorkbook.from_path(str(source))
        return CalamineWorkbook.from_filelike(io.BytesIO(source))
    except CalamineError as exc:
        raise FileProblem(f"is damaged or not a readable workbook ({exc})", 400) from None
    except Exception as exc:  # calamine raises its own zip/XML errors for broken parts
        raise FileProblem(f"is damaged or not a readable workbook ({type(exc).__name__}: {exc})", 400) from None


def _rows_after(head: list[list[Any]], start: int, rest: Iterator[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    # zip/count/chain keep the per-row step in C: a generator here cost ~0.5 µs a row.
    return zip(itertools.count(start), itertools.chain(head, rest))


def open_sheet(source: Source, spec: HeaderSpec, *, what: str, limits: WorkbookLimits) -> Sheet:
    """The first sheet whose first 30 rows hold a header with every required column."""
    workbook = open_workbook(source, limits)
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
        header, closest = find_header(head, spec)
        if header is None:
            missing = closest.missing if closest else list(spec.required)
            found = [text for text in (closest.headers if closest else []) if text]
            explanations.append(
                f"sheet {name!r} has no header row with {', '.join(spec.titles[m] for m in missing)} in its first "
                f"{HEADER_SCAN_ROWS} rows (closest row {closest.row_index + 1 if closest else 1} has: "
                f"{', '.join(found[:20]) or 'nothing'})")
            continue
        if header.clashes:
            clash = "; ".join(f"{', '.join(found)} all mean {spec.titles.get(field_name, field_name)}"
                              for field_name, found in header.clashes.items())
            raise FileProblem(f"sheet {name!r} row {header.row_index + 1} has two columns for one field: {clash}")
        rows = _rows_after(head[header.row_index + 1:], header.row_index + 2, row_iter)
        return Sheet(name=name, header=header, rows=rows, last_row=sheet.end[0] + 1 if sheet.end else 0)
    if all(text.endswith("is empty") for text in explanations):
        raise FileProblem("has no data: every sheet is empty")
    raise FileProblem(f"has no sheet with {what}: " + "; ".join(explanations))


def save_upload(stream: BinaryIO, path: Path, *, chunk_bytes: int = 1024 * 1024) -> Path:
    """Copy an uploaded file to `path` in chunks, so a large export never sits in memory whole."""
    with path.open("wb") as target:
        while chunk := stream.read(chunk_bytes):
            target.write(chunk)
    return path


UPLOAD_FOLDER_PREFIX = "prm-upload-"
STALE_UPLOAD_HOURS = 24.0


@contextmanager
def spooled_upload(stream: BinaryIO, name: str = "upload.xlsx") -> Iterator[Path]:
    """The upload copied into a private temporary folder for the length of the block."""
    with tempfile.TemporaryDirectory(prefix=UPLOAD_FOLDER_PREFIX) as folder:
        yield save_upload(stream, Path(folder) / name)


def remove_stale_uploads(*, older_than_hours: float = STALE_UPLOAD_HOURS, root: Path | None = None) -> int:
    """Delete upload folders that a killed process left behind; returns how many.

    A process that ends normally removes its own folder; one killed mid-import (power cut,
    SIGKILL) leaves a copy of the upload, up to MAX_UPLOAD_MB each. A day old is never an
    import still running, even in a sibling worker.
    """
    root = root or Path(tempfile.gettempdir())
    cutoff = time.time() - older_than_hours * 3600
    removed = 0
    for folder in root.glob(f"{UPLOAD_FOLDER_PREFIX}*"):
        try:
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed += 1
        except OSError as exc:  # another worker removed it first, or it is not ours to remove
            log.debug("could not remove %s: %s", folder, exc)
    if removed:
        log.info("removed %d upload folder(s) left by an interrupted import", removed)
    return removed
