"""Measure an uploaded .xlsx before any reader allocates for it, and refuse what would hurt.

A spreadsheet reader sizes its grid from the cell references it meets: a 2 KB sheet with cells at
A1 and XFD1048576, or a shared-strings part that claims four billion strings, makes calamine ask
for hundreds of GB and abort the whole process, which Python cannot catch. So every upload
passes this gate first. It reads the zip's directory, then streams each worksheet and the shared
strings through a C regex that finds only references outside the caps (or missing or malformed
ones); a sheet where it finds any is walked exactly with expat to name the first offending cell.
Nothing here builds a cell.
"""

import io
import queue
import re
import threading
import xml.parsers.expat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

import errors

# A real sheet's XML inflates 5-30x; a zip bomb inflates by thousands.
MAX_INFLATE_RATIO = 200
MAX_PARTS = 10_000
MAX_SMALL_PART_BYTES = 16 * 1024**2  # workbook.xml and its relationships
CHUNK_BYTES = 4 * 1024**2
MAX_TAG_CARRY = 16 * 1024**2
EXCEL_MAX_ROWS = 1_048_576


class FileProblem(Exception):
    """The file as a whole cannot be used; `status` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def as_app_error(self, file_name: str) -> errors.AppError:
        """The HTTP error for this problem, naming the file: "prices.csv is a CSV/text file; ..."."""
        kind = {400: errors.BadRequest, 413: errors.PayloadTooLarge, 415: errors.UnsupportedMediaType}.get(
            self.status, errors.InvalidInput)
        return kind(f"{file_name} {self.message}.", [errors.item(["file"], self.message, "file")])


@dataclass(frozen=True)
class WorkbookLimits:
    """What one kind of upload may hold; anything beyond is refused before it is read."""

    rows: int
    columns: int
    area: int  # rows x columns of the sheet's bounding box: what the reader allocates
    sheets: int = 50
    shared_strings: int = 5_000_000
    inflated_bytes: int = 4 * 1024**3


# A portal export of a big distributor's full year is about 1,000,000 rows of 20-30 columns;
# Excel itself stops at 1,048,576 rows.
# calamine holds about 30 bytes per cell of the bounding box (a 1,100,000 x 20 sheet peaks at
# 0.7 GB), so the area, not each cap alone, is what keeps a reader under 1 GiB.
PRM_LIMITS = WorkbookLimits(rows=EXCEL_MAX_ROWS, columns=200, area=22_000_000)
# A price list holds one row per model; a mapping sheet one per retailer.
PRICE_LIST_LIMITS = WorkbookLimits(rows=100_000, columns=50, area=2_000_000, shared_strings=1_000_000,
                                   inflated_bytes=512 * 1024**2)
MAPPING_LIMITS = WorkbookLimits(rows=200_000, columns=50, area=4_000_000, shared_strings=1_000_000,
                                inflated_bytes=512 * 1024**2)


def column_name(number: int) -> str:
    """1 -> A, 27 -> AA, 200 -> GR."""
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _at_most(limit: str, alphabet: str, first: str) -> str:
    """A regex for the strings of `alphabet` that count up to `limit` (no leading zeros: `first`)."""
    def below(char: str, lowest: str) -> str:
        chars = alphabet[alphabet.index(lowest):alphabet.index(char)]
        return f"[{chars}]" if chars else ""

    every = f"[{alphabet}]"
    options = [f"[{first}]{every}{{0,{len(limit) - 2}}}"] if len(limit) > 1 else []
    for index, char in enumerate(limit):
        lower = below(char, first[0] if index == 0 else alphabet[0])
        if lower:
            options.append(re.escape(limit[:index]) + lower + f"{every}{{{len(limit) - index - 1}}}")
    options.append(re.escape(limit))
    return "(?:" + "|".join(options) + ")"


_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_DIMENSION = re.compile(rb"<" + _PREFIX + rb"""dimension\s+ref\s*=\s*["']([^"']*)["']""")
_SST_TAG = re.compile(rb"<" + _PREFIX + rb"sst(?=[\s/>])[^>]*>")
_SST_COUNTS = re.compile(rb"""\s(?:count|uniqueCount)\s*=\s*["']([^"']*)["']""")
_STRING_ITEM = re.compile(rb"<" + _PREFIX + rb"si(?=[\s/>])")
_REFERENCE = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")


def _suspects(limits: WorkbookLimits, columns: int) -> tuple[re.Pattern[bytes], ...]:
    """Patterns that find cells and rows which are not plainly inside `limits.rows` x `columns`.

    The usual writer (Excel, openpyxl, xlsxwriter, the portal) opens every cell `<c r="B7"` with
    `r` first; each pattern starts with a literal so the regex engine skips to candidates at
    memory speed. Anything else (no `r`, `r` later or twice, single quotes, a prefix, a reference
    beyond the caps) is a suspect.
    """
    digits, letters = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    row = _at_most(str(min(limits.rows, EXCEL_MAX_ROWS)), digits, "123456789").encode()
    column = _at_most(column_name(columns), letters, letters).encode()
    rest = rb"""(?:\s+(?!r\s*=)[\w:.-]+\s*=\s*"[^"]*")*\s*/?>"""  # no second r: the last one wins in calamine
    return (re.compile(rb'<c(?! r="' + column + row + rb'"' + rest + rb")(?=[\s/>])"),
            re.compile(rb'<row(?! r="' + row + rb'"' + rest + rb")(?=[\s/>])"),
            re.compile(rb":(?:c|row)(?=[\s/>])"))


@dataclass
class _Part:
    path: str
    label: str  # how people know it: "sheet 'IMEI Details'"


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_SMALL_PART_BYTES:
        raise FileProblem(f"has a {name} of {info.file_size // 1024**2} MB, far more than a workbook needs", 413)
    return archive.read(name)


def _parse_small(data: bytes, name: str) -> Element:
    try:
        return ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml refuses DTDs and entities; ParseError for broken XML
        raise FileProblem(f"is damaged: its {name} cannot be read ({type(exc).__name__})", 400) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parts(archive: zipfile.ZipFile, limits: WorkbookLimits) -> tuple[list[_Part], list[str]]:
    """(the worksheets, each with its sheet name; the shared-strings parts)."""
    sheets: list[_Part] = []
    strings = {"xl/sharedStrings.xml"}
    targets: dict[str, tuple[str, str]] = {}  # relationship id -> (type, part path)
    rels = _read_small(archive, "xl/_rels/workbook.xml.rels")
    if rels is not None:
        for rel in _parse_small(rels, "workbook relationships").iter():
            if _local(rel.tag) == "Relationship":
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
                targets[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    strings |= {path for kind, path in targets.values() if kind == "sharedStrings"}
    workbook = _read_small(archive, "xl/workbook.xml")
    declared = []
    if workbook is not None:
        declared = [node for node in _parse_small(workbook, "workbook.xml").iter() if _local(node.tag) == "sheet"]
    if len(declared) > limits.sheets:
        raise FileProblem(f"has {len(declared):,} sheets; this upload reads at most {limits.sheets}", 413)
    seen = set()
    for node in declared:
        rel_id = next((value for key, value in node.attrib.items() if _local(key) == "id"), "")
        kind, path = targets.get(rel_id, ("", ""))
        if path and kind == "worksheet" and path not in seen:
            seen.add(path)
            sheets.append(_Part(path, f"sheet {node.get('name', '?')!r}"))
    names = {info.filename for info in archive.infolist()}
    for name in sorted(names):  # worksheets no sheet names still get read by some readers
        if name.startswith("xl/worksheets/") and name.endswith(".xml") and name not in seen:
            sheets.append(_Part(name, f"part {name}"))
    return [part for part in sheets if part.path in names], sorted(strings & names)


def _blocks(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """The part inflated block by block, one block ahead on a thread of its own: zlib lets go of
    the GIL while it inflates, so inflating the next block overlaps scanning this one."""
    ahead: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def inflate() -> None:
        try:
            with archive.open(name) as stream:
                while not stop.is_set() and (block := stream.read(CHUNK_BYTES)):
                    ahead.put(block)
            ahead.put(None)
        except BaseException as exc:  # handed to the reader, which raises it in its own thread
            ahead.put(exc)

    thread = threading.Thread(target=inflate, name="workbook-gate", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a blocked put() finish so the thread can see `stop`
            try:
                ahead.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


def _chunks(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """The part's XML in chunks that end just before a `<`, so no tag is cut in two."""
    carry = b""
    for block in _blocks(archive, name):
        data = carry + block
        cut = data.rfind(b"<")
        if cut <= 0:
            carry = data
            if len(carry) > MAX_TAG_CARRY:
                raise FileProblem(f"is damaged: {name} has a run of {len(carry) // 1024**2} MB with no XML tag", 400)
            continue
        carry = data[cut:]
        yield data[:cut]
    if carry:
        yield carry


def _beyond(limits: WorkbookLimits) -> str:
    return f"beyond the {limits.rows:,} rows and {limits.columns} columns (up to {column_name(limits.columns)}) this upload reads"


def _declares_entities(chunk: bytes) -> bool:
    return b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk  # XML spells both in capitals only


def _check_reference(text: str, where: str, limits: WorkbookLimits) -> tuple[int, int]:
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise FileProblem(f"is damaged: {where} has a cell reference {text[:40]!r}, which is not a cell", 400)
    row, column = int(match[2]), column_number(match[1])
    if row > limits.rows or column > limits.columns or row > EXCEL_MAX_ROWS:
        raise FileProblem(f"has {where} with a cell at {text}, {_beyond(limits)}; it was not read", 413)
    return row, column


def _walk_exactly(archive: zipfile.ZipFile, part: _Part, limits: WorkbookLimits) -> None:
    """Follow the sheet as a reader does (a cell without `r` is the next one along) and raise at
    the first cell or row beyond the caps."""
    parser = xml.parsers.expat.ParserCreate()
    # As calamine reads it: a cell without `r` sits on its row's number (the row's `r`, else one
    # more than the last row's), one column right of the cell before it; a cell with `r` sits
    # where its reference says, whatever the row's number.
    position = {"row": 0, "column": 0}
    corner = {"row": 0, "column": 0}  # the bounding box's far corner so far

    def start(tag: str, attributes: dict[str, str]) -> None:
        name = tag.rsplit(":", 1)[-1]
        if name == "row":
            reference = attributes.get("r")
            if reference is None:
                position["row"] += 1
            elif not reference.isdigit() or reference.startswith("0"):
                raise FileProblem(f"is damaged: {part.label} has a row numbered {reference[:40]!r}", 400)
            else:
                position["row"] = int(reference)
            position["column"] = 0
            if position["row"] > limits.rows:
                raise FileProblem(f"has {part.label} with a row {position['row']:,}, {_beyond(limits)}; it was not read", 413)
        elif name == "c":
            reference = attributes.get("r")
            if reference is None:
                position["column"] += 1
                if position["column"] > limits.columns:
                    raise FileProblem(f"has {part.label} with a row of more than {limits.columns} cells, "
                                      f"{_beyond(limits)}; it was not read", 413)
                row = max(position["row"], 1)
            else:
                row, position["column"] = _check_reference(reference, part.label, limits)
            corner["row"] = max(corner["row"], row)
            corner["column"] = max(corner["column"], position["column"])

    def refuse_declarations(*_args: object) -> None:
        raise FileProblem(f"is damaged: {part.label} declares XML entities, which no workbook needs", 400)

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_declarations
    parser.EntityDeclHandler = refuse_declarations
    try:
        for chunk in _chunks(archive, part.path):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise FileProblem(f"is damaged: {part.label} is not well-formed XML ({exc})", 400) from None
    _check_area(corner["row"], corner["column"], part, limits)


def _check_area(rows: int, columns: int, part: _Part, limits: WorkbookLimits) -> None:
    if rows * columns > limits.area:
        raise FileProblem(f"has {part.label} reaching {column_name(columns)}{rows}: {rows:,} rows by {columns} columns "
                          f"is more than the {limits.area:,} cells this upload reads; split it into smaller files", 413)


_CELL_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_CELL_ROWS = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')


def _measure_wide(archive: zipfile.ZipFile, part: _Part, limits: WorkbookLimits) -> None:
    """A sheet wider than the quick check allows: check every reference against the full caps and
    measure its bounding box exactly (the walk does both where references are unusual)."""
    suspects = _suspects(limits, limits.columns)
    far_row = far_column = 0
    for chunk in _chunks(archive, part.path):
        if any(pattern.search(chunk) for pattern in suspects):
            _walk_exactly(archive, part, limits)
            return
        # Sets first: the comparisons then run over a few distinct values, not every cell.
        far_column = max([far_column, *map(column_number_bytes, set(_CELL_COLUMNS.findall(chunk)))])
        far_row = max([far_row, *map(int, set(_CELL_ROWS.findall(chunk)))])
    _check_area(far_row, far_column, part, limits)


def column_number_bytes(letters: bytes) -> int:
    return column_number(letters.decode("ascii"))


def _check_sheet(archive: zipfile.ZipFile, part: _Part, limits: WorkbookLimits) -> None:
    """Raise for a sheet beyond the caps or the area.

    The quick check allows only as many columns as keep rows x columns inside the area (20 for
    a PRM export), so a sheet that passes it needs no measuring; a wider or unusual one is
    measured exactly, reading it again.
    """
    quick = _suspects(limits, max(1, min(limits.columns, limits.area // limits.rows)))
    first = True
    for chunk in _chunks(archive, part.path):
        if _declares_entities(chunk):
            raise FileProblem(f"is damaged: {part.label} declares XML entities, which no workbook needs", 400)
        if first:
            first = False
            if dimension := _DIMENSION.search(chunk):
                for corner in dimension[1].decode("ascii", "replace").split(":")[:2]:
                    _check_reference(corner.replace("$", ""), f"{part.label} (its declared size)", limits)
        if any(pattern.search(chunk) for pattern in quick):
            _measure_wide(archive, part, limits)
            return


def _check_strings(archive: zipfile.ZipFile, name: str, limits: WorkbookLimits) -> None:
    count, first = 0, True
    for chunk in _chunks(archive, name):
        if _declares_entities(chunk):
            raise FileProblem("is damaged: its shared strings declare XML entities, which no workbook needs", 400)
        if first and (tag := _SST_TAG.search(chunk)):
            for claimed in _SST_COUNTS.findall(tag[0]):
                if not claimed.isdigit() or int(claimed) > limits.shared_strings:
                    raise FileProblem(f"says it holds {claimed.decode('ascii', 'replace')[:20]} different texts; "
                                      f"this upload reads at most {limits.shared_strings:,}", 413)
        first = False
        count += sum(1 for _ in _STRING_ITEM.finditer(chunk))
        if count > limits.shared_strings:
            raise FileProblem(f"holds more than {limits.shared_strings:,} different texts, more than this upload reads", 413)


def _check_directory(archive: zipfile.ZipFile, limits: WorkbookLimits) -> None:
    """Refuse a zip bomb from its directory, before inflating anything."""
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        raise FileProblem("is a zip archive but not an Excel workbook", 415)
    if "EncryptedPackage" in names:
        raise FileProblem("is password-protected; save it again in Excel without a password", 400)
    if len(infos) > MAX_PARTS:
        raise FileProblem(f"has {len(infos):,} parts inside; a workbook has a few dozen", 413)
    total = sum(info.file_size for info in infos)
    if total > limits.inflated_bytes:
        raise FileProblem(f"would inflate to {total // 1024**2:,} MB, more than this upload reads "
                          f"({limits.inflated_bytes // 1024**2:,} MB)", 413)
    for info in infos:
        if info.file_size > 1024**2 and info.file_size > MAX_INFLATE_RATIO * max(info.compress_size, 1):
            raise FileProblem(
                f"has a part ({info.filename}) that inflates {info.file_size // max(info.compress_size, 1)}x; "
                "it looks like a zip bomb and was not read", 413)


def check_workbook(source: bytes | Path | BinaryIO, limits: WorkbookLimits) -> None:
    """Raise `FileProblem` unless the workbook is safe to hand to a reader under `limits`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem(f"is damaged and cannot be opened ({exc})", 400) from None
    with archive:
        _check_directory(archive, limits)
        try:
            sheets, strings = _parts(archive, limits)
            for name in strings:
                _check_strings(archive, name, limits)
            for part in sheets:
                _check_sheet(archive, part, limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            # a bad CRC, a truncated part, an encrypted member or an unknown compression method
            raise FileProblem(f"is damaged and cannot be read ({exc})", 400) from None
