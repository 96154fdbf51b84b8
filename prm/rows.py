"""Check every data row of a PRM sheet and turn the good ones into import records. No I/O."""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from sys import intern
from datetime import datetime
from typing import Any, NamedTuple

from kit.cells import IST_OFFSET, UTC, CellError, cell_text, day_first_local, parse_datetime
from prm.cells import NEEDS_CARE, luhn_ok, parse_imei
from prm.columns import KNOWN_STATUS_TEXT, STATUS_MAP, STATUSES_AT_RETAILER, normalise_status
from kit.workbooks import HeaderMatch
from models import RETAILER_CODE_CHARS

MAX_VALUE_CHARS = 255
# A run keeps the first this-many errors, and as many warnings, with their rows; beyond that only
# the exact counts by kind. Every row of a 200,000-row file can be wrong at once (a renamed
# status), and storing each error added 129 MB to the database per attempt.
ROW_ERRORS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class RowIssue:
    row: int | None  # Excel row number, 1-based; None for a file-level remark
    column: str | None  # the header as written in the file
    value: str | None
    message: str
    severity: str = "error"  # error | warning
    kind: str = ""  # the message without the values inside it, when `message_kind` cannot tell


# Quoted text and free-standing numbers are the values inside a message ("IMEI 8612... is already
# on row 5"); IMEI2 keeps its 2.
_VALUE_IN_MESSAGE = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d+\b")


def message_kind(message: str) -> str:
    """The message with the values inside it replaced, so one kind of problem counts as one."""
    return _VALUE_IN_MESSAGE.sub(lambda match: "'…'" if match.group()[0] in "'\"" else "N", message)


class DeviceRecord(NamedTuple):
    """One accepted device row; a NamedTuple because 100,000 of them are built per import."""

    imei: str
    imei2: str | None
    serial: str | None
    goods_id: str
    status: str
    retailer_code: str | None
    inward_at: Any  # a UTC datetime, in the checker's `datetime_form`
    activation_at: Any
    row: int


# DeviceRecord((...)) without NamedTuple's Python-level __new__: a third of the cost, per row.
_new_record = partial(tuple.__new__, DeviceRecord)


@dataclass
class ParsedRows:
    devices: list[DeviceRecord] = field(default_factory=list)
    # goods_id -> product name (the last one wins), retailer code -> details (the last one wins)
    products: dict[str, str | None] = field(default_factory=dict)
    retailers: dict[str, dict[str, str | None]] = field(default_factory=dict)
    errors: list[RowIssue] = field(default_factory=list)  # the first `kept`
    warnings: list[RowIssue] = field(default_factory=list)  # the first `kept`
    rows_total: int = 0
    rows_rejected: int = 0
    errors_total: int = 0
    warnings_total: int = 0
    # (severity, column, message kind) -> how many, exact however many were kept
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    kept: int = field(default_factory=lambda: ROW_ERRORS_KEPT)

    def add(self, issues: Iterable[RowIssue]) -> None:
        """Count every issue; keep it while fewer than `kept` of its severity are kept."""
        for issue in issues:
            if issue.severity == "error":
                self.errors_total += 1
                if len(self.errors) < self.kept:
                    self.errors.append(issue)
            else:
                self.warnings_total += 1
                if len(self.warnings) < self.kept:
                    self.warnings.append(issue)
            self.counts[issue.severity, issue.column or "", issue.kind or message_kind(issue.message)] += 1

    def remark_first(self, remark: str, kind: str) -> None:
        """Add a file-level warning ahead of the row issues, kept whatever the cap."""
        self.warnings.insert(0, RowIssue(None, None, None, remark, "warning", kind))
        self.warnings_total += 1
        self.counts["warning", "", kind] += 1


def _shown(value: Any) -> str:
    text = cell_text(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


class RowChecker:
    """Checks rows one at a time, remembering what it saw (duplicates, conflicting names).

    Written for speed: a 100,000-row file goes through `check` in well under a second, so the
    common case (a clean text IMEI, a known status) takes the short paths.
    """

    def __init__(self, header: HeaderMatch, *, now: datetime,
                 datetime_form: Callable[[datetime], Any] | None = None,
                 naive_utc_form: Callable[[datetime], Any] | None = None) -> None:
        self.header = header
        self.now = now
        # How accepted datetimes are kept: as they are by default, or already in the form the
        # database driver takes, which saves the importer a second pass over every row.
        self._datetime_form: Callable[[datetime], Any] = datetime_form or (lambda moment: moment)
        # The same form from a naive UTC datetime (bulk.naive_utc_writer), for real Excel date
        # cells on the short path; None sends them the long way round.
        self._naive_utc_form = naive_utc_form
        self._now_naive_utc = now.astimezone(UTC).replace(tzinfo=None)
        self.result = ParsedRows()
        columns = header.columns
        self._title = {name: header.headers[index] for name, index in columns.items()}
        self._width = max(columns.values()) + 1
        self._index = {name: columns.get(name, -1) for name in (
            "imei1", "imei2", "goods_id", "product_name", "status", "retailer_code", "retailer_name", "serial",
            "inward_at", "activation_at", "retailer_mobile", "city", "state")}
        self._imei_rows: dict[str, int] = {}
        self._product_rows: dict[str, int] = {}
        self._retailer_rows: dict[str, int] = {}
        self._warned_names: set[tuple[str, str]] = set()
        self._status_cache: dict[str, str | None] = {}
        self._hot = tuple(self._index[name] for name in (
            "imei1", "imei2", "goods_id", "status", "retailer_code", "inward_at", "activation_at", "product_name",
            "serial", "retailer_name"))

    def _cell(self, cells: list[Any], name: str) -> Any:
        index = self._index.get(name, -1)
        return cells[index] if index >= 0 else None

    def _text(self, cells: list[Any], name: str) -> str:
        index = self._index[name]
        if index < 0:
            return ""
        value = cells[index]
        text = value.strip() if type(value) is str else cell_text(value)
        return text[:MAX_VALUE_CHARS]

    def _issue(self, cells: list[Any], row: int, name: str, message: str, severity: str = "error") -> RowIssue:
        return RowIssue(row, self._title.get(name, name), _shown(self._cell(cells, name)), message, severity)

    def _imei(self, value: Any, cells: list[Any], row: int, name: str, label: str,
              problems: list[RowIssue], remarks: list[RowIssue]) -> str | None:
        if type(value) is str and len(value) == 15 and value.isdigit() and value.isascii() and luhn_ok(value):
            return value
        try:
            imei, remark = parse_imei(value)
        except CellError as exc:
            problems.append(self._issue(cells, row, name, f"{label} {exc}"))
            return None
        if remark:
            remarks.append(self._issue(cells, row, name, remark, "warning"))
        return imei

    def _date(self, cells: list[Any], row: int, name: str, label: str, problems: list[RowIssue]) -> tuple[datetime | None, bool]:
        """(the UTC datetime or None, whether the cell was unreadable)."""
        index = self._index[name]
        if index < 0:
            return None, False
        try:
            return parse_datetime(cells[index]), False
        except CellError as exc:  # a year-1 date too: parse_datetime words every date problem
            problems.append(self._issue(cells, row, name, f"{label} {exc}"))
        return None, True

    def _status(self, text: str) -> str | None:
        try:
            return self._status_cache[text]
        except KeyError:
            status = self._status_cache[text] = STATUS_MAP.get(normalise_status(text))
            return status

    def check(self, cells: list[Any], row: int) -> None:
        if len(cells) < self._width:
            cells = [*cells, *([""] * (self._width - len(cells)))]
        if self._take_clean_row(cells, row):
            return
        if any(cells):  # else a blank row (calamine gives "" for empty cells), which is skipped
            self._check_slowly(cells, row)

    def _fast_imei(self, value: Any) -> str | None:
        """The IMEI of a plainly valid cell, or None to leave the cell to `parse_imei`."""
        if type(value) is str:
            text = value
            if len(text) != 15 or not text.isdigit() or not text.isascii():
                return None
        elif type(value) is float and 1e14 <= value < 1e15 and value.is_integer():
            text = str(int(value))
        else:
            return None
        return text if luhn_ok(text) and text not in self._imei_rows else None

    @staticmethod
    def _fast_date(value: Any) -> Any:
        """A UTC datetime, None for an empty cell, or NEEDS_CARE for `_check_slowly` to explain."""
        if value == "":
            return None
        try:
            return parse_datetime(value)
        except CellError:
            return NEEDS_CARE

    @staticmethod
    def _fast_naive_utc(value: Any) -> Any:
        """A naive UTC datetime from an Excel date cell or the portal's day-first text, None for an
        empty cell, NEEDS_CARE for anything else (which `_fast_date` then tries)."""
        try:
            if type(value) is datetime:
                return value - IST_OFFSET if value.tzinfo is None else NEEDS_CARE
            if type(value) is str:
                if value == "":
                    return None
                local = day_first_local(value)
                if local is not None:
                    return local - IST_OFFSET
        except OverflowError:  # a year-1 date is no fast case: parse_datetime words it, on the slow path
            pass
        return NEEDS_CARE

    def _take_clean_row(self, cells: list[Any], row: int) -> bool:
        """Accept a row with nothing to remark on, on the short path; False leaves it to `_check_slowly`.

        Any doubt (an odd cell type, a warning, an error) returns False, and the slow path,
        which is the definition of the rules, gives the verdict and the messages. Written flat,
        without helper calls where it can be, because it runs once per row of 100,000.
        """
        i_imei1, i_imei2, i_goods, i_status, i_code, i_inward, i_activation, i_name, i_serial, i_shop = self._hot
        seen = self._imei_rows
        value = cells[i_imei1]
        if type(value) is str and len(value) == 15 and value.isdigit() and value.isascii():
            imei: str | None = value if luhn_ok(value) and value not in seen else None
        else:
            imei = self._fast_imei(value)
        if imei is None:
            return False
        imei2 = None
        if i_imei2 >= 0 and (value := cells[i_imei2]) != "":
            if type(value) is str and len(value) == 15 and value.isdigit() and value.isascii():
                imei2 = value if luhn_ok(value) and value not in seen else None
            else:
                imei2 = self._fast_imei(value)
            if imei2 is None or imei2 == imei:
                return False
        goods_id, status_text, retailer_code = cells[i_goods], cells[i_status], cells[i_code]
        if type(goods_id) is not str or type(status_text) is not str or type(retailer_code) is not str:
            return False
        # Interned: 100,000 rows share a few hundred codes, and each copy costs about 55 bytes.
        # Cut to MAX_VALUE_CHARS like `_text`: the short path must give the full rules' answer.
        goods_id = intern(goods_id.strip()[:MAX_VALUE_CHARS])
        retailer_code = intern(retailer_code.strip()[:MAX_VALUE_CHARS])
        status = self._status_cache.get(status_text) or self._status(status_text) if status_text else None
        if (not goods_id or status is None or (not retailer_code and status in STATUSES_AT_RETAILER)
                or len(retailer_code) > RETAILER_CODE_CHARS):
            return False
        # Dates: straight to the database's form where it has one for naive UTC (SQLite text),
        # else as aware UTC datetimes in `datetime_form`.
        to_db, naive_to_db = self._datetime_form, self._naive_utc_form
        value = cells[i_inward] if i_inward >= 0 else ""
        if naive_to_db is not None and (utc := self._fast_naive_utc(value)) is not NEEDS_CARE:
            inward_db = None if utc is None else naive_to_db(utc)
        else:
            inward_at = self._fast_date(value)
            if inward_at is NEEDS_CARE:
                return False
            inward_db = None if inward_at is None else to_db(inward_at)
        value = cells[i_activation] if i_activation >= 0 else ""
        if naive_to_db is not None and (utc := self._fast_naive_utc(value)) is not NEEDS_CARE:
            if utc is None:
                activation_db = None
            elif utc > self._now_naive_utc:
                return False
            else:
                activation_db = naive_to_db(utc)
        else:
            activation_at = self._fast_date(value)
            if activation_at is NEEDS_CARE or (activation_at is not None and activation_at > self.now):
                return False
            activation_db = None if activation_at is None else to_db(activation_at)
        if activation_db is None and status == "activated":
            return False

        result = self.result
        result.rows_total += 1
        seen[imei] = row
        if imei2:
            seen[imei2] = row
        name = cells[i_name] if i_name >= 0 else ""
        name = (name.strip() if type(name) is str else cell_text(name))[:MAX_VALUE_CHARS]
        if not name or result.products.get(goods_id, "") != name:
            self._remember_product(goods_id, name or None, row)
        if retailer_code:
            shop = result.retailers.get(retailer_code)
            shop_name = cells[i_shop] if i_shop >= 0 else ""
            if shop is None or type(shop_name) is not str or shop["name"] != shop_name.strip():
                self._remember_retailer(retailer_code, cells, row)
        serial = cells[i_serial] if i_serial >= 0 else ""
        serial = (serial.strip() if type(serial) is str else cell_text(serial))[:MAX_VALUE_CHARS]
        result.devices.append(_new_record((
            imei, imei2, serial or None, goods_id, status, retailer_code or None, inward_db, activation_db, row)))
        return True

    def _check_slowly(self, cells: list[Any], row: int) -> None:
        result = self.result
        result.rows_total += 1
        problems: list[RowIssue] = []
        remarks: list[RowIssue] = []
        index = self._index

        imei = self._imei(cells[index["imei1"]], cells, row, "imei1", "IMEI", problems, remarks)
        imei2 = None
        if index["imei2"] >= 0 and cells[index["imei2"]] not in ("", None):
            imei2 = self._imei(cells[index["imei2"]], cells, row, "imei2", "IMEI2", problems, remarks)
            if imei2 is not None and imei2 == imei:
                problems.append(self._issue(cells, row, "imei2", "IMEI2 is the same as IMEI1"))
                imei2 = None

        goods_id = self._text(cells, "goods_id")
        if not goods_id:
            problems.append(self._issue(cells, row, "goods_id", "Goods ID is required"))
        status_text = self._text(cells, "status")
        status = self._status(status_text) if status_text else None
        if not status_text:
            problems.append(self._issue(cells, row, "status", f"Status is required; known values: {KNOWN_STATUS_TEXT}"))
        elif status is None:
            problems.append(self._issue(cells, row, "status", f"unknown status {status_text!r}; known values: {KNOWN_STATUS_TEXT}"))
        retailer_code = self._text(cells, "retailer_code") or None
        if status in STATUSES_AT_RETAILER and not retailer_code:
            problems.append(self._issue(cells, row, "retailer_code", f"Retailer ID is required when the status is {status_text!r}"))
        elif retailer_code and len(retailer_code) > RETAILER_CODE_CHARS:
            problems.append(self._issue(cells, row, "retailer_code", f"Retailer ID is {len(retailer_code)} characters "
                                        f"long; at most {RETAILER_CODE_CHARS} are kept"))

        inward_at, _ = self._date(cells, row, "inward_at", "inward time", problems)
        activation_at, unreadable = self._date(cells, row, "activation_at", "activation time", problems)
        if activation_at is not None and activation_at > self.now:
            problems.append(self._issue(cells, row, "activation_at", "activation time is in the future"))
        if status == "activated" and activation_at is None and not unreadable:
            problems.append(RowIssue(row, self._title.get("activation_at", "Activation Time"), "",
                                     "an Activated row needs an activation time"))

        seen = self._imei_rows
        if imei is not None and imei in seen:
            problems.append(self._issue(cells, row, "imei1", f"IMEI {imei} is already on row {seen[imei]}"))
        if imei2 is not None and imei2 in seen:
            problems.append(self._issue(cells, row, "imei2", f"IMEI {imei2} is already on row {seen[imei2]}"))

        if remarks:
            result.add(remarks)
        if problems:
            result.add(problems)
            result.rows_rejected += 1
            return
        assert imei is not None and status is not None
        seen[imei] = row
        if imei2:
            seen[imei2] = row
        self._remember_product(goods_id, self._text(cells, "product_name") or None, row)
        if retailer_code:
            self._remember_retailer(retailer_code, cells, row)
        serial = self._text(cells, "serial") or None
        to_db = self._datetime_form
        result.devices.append(DeviceRecord(imei, imei2, serial, goods_id, status, retailer_code,
                                           None if inward_at is None else to_db(inward_at),
                                           None if activation_at is None else to_db(activation_at), row))

    def _remember_product(self, goods_id: str, name: str | None, row: int) -> None:
        products = self.result.products
        previous = products.get(goods_id)
        if name is None or name == previous:
            products.setdefault(goods_id, None)
            return
        if previous is not None:
            self._warn_two_names("Goods ID", goods_id, "product_name", previous, name,
                                 self._product_rows[goods_id], row)
        products[goods_id] = name
        self._product_rows[goods_id] = row

    def _warn_two_names(self, what: str, key: str, column: str, first: str, later: str, first_row: int,
                        row: int) -> None:
        """One warning per goods id or retailer code seen under two names; the last name is kept."""
        if (what, key) in self._warned_names:
            return
        self._warned_names.add((what, key))
        self.result.add([RowIssue(
            row, self._title[column], later,
            f"{what} {key} has two names: {first!r} (row {first_row}) and {later!r}; the last one is kept", "warning",
            f"{what} has two names; the last one is kept")])

    def _remember_retailer(self, code: str, cells: list[Any], row: int) -> None:
        retailers = self.result.retailers
        name = self._text(cells, "retailer_name") or None
        previous = retailers.get(code)
        if previous is not None and previous["name"] == name:
            return  # the common case: the same shop on another row
        details = {
            "name": name,
            "mobile": self._text(cells, "retailer_mobile") or None,
            "city": self._text(cells, "city") or None,
            "state": self._text(cells, "state") or None,
        }
        if previous is not None:
            if name and previous["name"]:
                self._warn_two_names("Retailer", code, "retailer_name", previous["name"], name,
                                     self._retailer_rows[code], row)
            details = {key: value or previous[key] for key, value in details.items()}
        retailers[code] = details
        self._retailer_rows[code] = row


def check_rows(
    rows: Iterable[tuple[int, list[Any]]],
    header: HeaderMatch,
    *,
    now: datetime,
    on_row: Callable[[int], None] | None = None,
    datetime_form: Callable[[datetime], Any] | None = None,
    naive_utc_form: Callable[[datetime], Any] | None = None,
) -> ParsedRows:
    """Check `(excel_row_number, cells)` pairs; `on_row(count)` is called every 1,000 rows."""
    checker = RowChecker(header, now=now, datetime_form=datetime_form, naive_utc_form=naive_utc_form)
    check = checker.check
    if on_row is None:
        for row_number, cells in rows:
            check(cells, row_number)
        return checker.result
    for count, (row_number, cells) in enumerate(rows, start=1):
        check(cells, row_number)
        if count % 1000 == 0:
            on_row(count)
    return checker.result
