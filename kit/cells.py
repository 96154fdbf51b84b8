"""Pure conversions of one cell or one typed value: text, names, dates and moments, rupee amounts. No I/O.

Each function returns the clean value or raises `CellError` (a `ValueError`) with a message a person
can act on. Spreadsheet cells and query values share these rules, so "21-11-2026" means one thing.
"""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic_core import PydanticCustomError

import errors

IST_OFFSET = timedelta(hours=5, minutes=30)
IST = timezone(IST_OFFSET, "IST")
UTC = timezone.utc


class CellError(ValueError):
    """A cell value that cannot be used; the message says why."""


def cell_text(value: Any) -> str:
    """A cell as trimmed text; whole numbers lose Excel's `.0` (12345.0 -> "12345")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def check_name(value: str, *, field: list[str | int]) -> str:
    """A Tally name from a person: trimmed, without control characters (XML cannot carry them)."""
    if any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in value):
        raise errors.InvalidInput(f"{value.strip()[:60]!r} contains control characters; Tally names cannot hold them.",
                           [errors.ErrorItem(loc=field, msg="contains control characters", type="invalid")])
    return " ".join(value.split())


def normalise_name(name: str) -> str:
    """§7: names compare case-insensitively, trimmed, with internal whitespace folded."""
    return " ".join(name.split()).casefold()


_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAY_FIRST = re.compile(
    r"^(\d{1,2})[-/. ]([A-Za-z]{3,9}|\d{1,2})[-/. ,]+(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?$"
)
_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
# Excel serial day numbers between 1982 and 2119, for a date column typed as a number.
_EXCEL_SERIAL_RANGE = (30000, 80000)
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _build(year: int, month: int, day: int, hour: int, minute: int, second: int, zone: timezone) -> datetime:
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise CellError(f"is not a real date/time ({exc})") from None
    offset = zone.utcoffset(None)
    return (local - offset).replace(tzinfo=UTC)


def _zone(text: str | None) -> timezone:
    if not text:
        return IST
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def day_first_local(text: str) -> datetime | None:
    """`21-11-2026 14:05:00` / `21/11/2026 14:05` / `21-11-2026`, the portal's own formats, fast,
    as a naive IST datetime.

    Rearranged to ISO for the C parser; anything else (or an impossible date) returns None and
    goes through the regular expressions, which give the error message.
    """
    if len(text) not in (10, 16, 19) or text[2] not in "-/." or text[5] != text[2]:
        return None
    iso = f"{text[6:10]}-{text[3:5]}-{text[0:2]}{text[10:]}"
    if not iso[:10].replace("-", "").isdigit():
        return None
    try:
        local = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return local if local.tzinfo is None else None


def _quick_day_first(text: str) -> datetime | None:
    local = day_first_local(text)
    return None if local is None else (local - IST_OFFSET).replace(tzinfo=UTC)


# Python's datetime holds the years 1-9999 only: 01-01-0001 in IST is before year 1 in UTC, and
# 31-12-9999 west of UTC (or its end of day) after 9999. One message for cells and query values.
OUT_OF_RANGE = "is out of range; use a date between 0001-01-02 and 9999-12-30, such as 21-11-2026"
_DAY_LESS_A_MICROSECOND = timedelta(days=1, microseconds=-1)


def parse_datetime(value: Any, *, to_end_of_day: bool = False) -> datetime | None:
    """A UTC datetime from an Excel date cell, ISO text or day-first text; naive means IST.

    Day-first only (21/11/2026 is 21 November): the portal is Indian, and guessing month-first
    for 05/11 would silently swap months. `to_end_of_day` moves it to the last microsecond of its
    day, for a caller that knows the value was a date alone.

    Raises:
        CellError: the value is not a date, or is one a datetime cannot hold (`OUT_OF_RANGE`).
    """
    try:
        moment = _to_utc(value)
        if to_end_of_day and moment is not None:
            moment += _DAY_LESS_A_MICROSECOND
    except OverflowError:  # the one place that words it, for every caller
        raise CellError(OUT_OF_RANGE) from None
    return moment


def _to_utc(value: Any) -> datetime | None:
    if type(value) is datetime:  # the common case: a real Excel date cell, naive IST
        return (value - IST_OFFSET).replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=IST).astimezone(UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if _EXCEL_SERIAL_RANGE[0] <= value <= _EXCEL_SERIAL_RANGE[1]:
            naive = _EXCEL_EPOCH + timedelta(days=value)  # a day count, not money
            return naive.replace(microsecond=0, tzinfo=IST).astimezone(UTC)
        raise CellError("is a number, not a date")
    text = str(value).strip()
    if not text:
        return None
    quick = _quick_day_first(text)
    if quick is not None:
        return quick
    match = _ISO.match(text)
    if match:
        year, month, day, hour, minute, second, zone = match.groups()
        return _build(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), _zone(zone))
    match = _DAY_FIRST.match(text)
    if match:
        day, month_text, year, hour, minute, second, meridiem = match.groups()
        if month_text.isdigit():
            month = int(month_text)
        else:
            month = _MONTHS.get(month_text[:3].lower(), 0)
            if not month:
                raise CellError(f"has an unknown month name {month_text!r}")
        hours = int(hour or 0)
        if meridiem:
            if not 1 <= hours <= 12:
                raise CellError("has an hour outside 1-12 with AM/PM")
            hours = hours % 12 + (12 if meridiem.lower() == "pm" else 0)
        return _build(int(year), month, int(day), hours, int(minute or 0), int(second or 0), IST)
    raise CellError("is not a date; use day-first (21-11-2026 14:05) or ISO (2026-11-21)")


def parse_moment(text: str, *, date_means_end_of_day: bool = False) -> datetime:
    """A moment typed by a person (a query value): ISO or day-first, naive meaning IST.

    A date alone means the start of that day in IST, or its last microsecond when
    `date_means_end_of_day` ("until 21-11-2026" includes the 21st). Text only: "0.5" is not a
    date, although pydantic would read it as a Unix time.
    """
    text = text.strip()
    if not text or text[0] not in "0123456789":
        raise CellError("is not a date; use 2026-11-21, 21-11-2026 14:05 or 2026-11-21T18:00:00+05:30")
    # A time always has a colon; a date never does.
    moment = parse_datetime(text, to_end_of_day=date_means_end_of_day and ":" not in text)
    assert moment is not None  # parse_datetime gives None only for empty text
    return moment


MAX_PRICE = Decimal("10000000.00")


def plain_amount_text(text: str) -> str:
    """`₹ 1,23,456.50` or `Rs. 15,999` as plain decimal text; grouping commas in any place."""
    return text.strip().replace(",", "").removeprefix("₹").removeprefix("Rs.").strip()


def parse_price(value: object) -> Decimal:
    """A price from JSON (number or string) or a spreadsheet cell, exactly as written.

    Never rounds: 15999.999 is an error, because a silently rounded price is a wrong price.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a number like 15999.00")
    if isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as this float: what was typed
    elif isinstance(value, (int, Decimal)):
        text = str(value)
    elif isinstance(value, str):
        text = plain_amount_text(value)
    else:
        raise ValueError("must be a number like 15999.00")
    try:
        price = Decimal(text)
    except ArithmeticError:
        raise ValueError(f"must be a number like 15999.00, not {str(value)[:30]!r}") from None
    if not price.is_finite():
        raise ValueError("must be a number like 15999.00")
    if price <= 0:
        raise ValueError("must be greater than 0")
    if price > MAX_PRICE:
        raise ValueError("must be at most 10000000.00")
    if price.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"has more than two decimal places ({text}); prices are never rounded")
    return price.quantize(Decimal("0.01"))


# --- the same rules as pydantic validators, for schemas' Annotated types ---------------------------
# PydanticCustomError keeps the message as written; a plain ValueError would gain "Value error, ".


def _moment(value: object, *, end_of_day: bool) -> object:
    if not isinstance(value, str):
        return value
    try:
        return parse_moment(value, date_means_end_of_day=end_of_day)
    except CellError as exc:
        raise PydanticCustomError("datetime_format", str(exc)) from None


def query_moment(value: object) -> object:
    """A `since`-style query moment: a date alone starts that day (IST)."""
    return _moment(value, end_of_day=False)


def query_moment_until(value: object) -> object:
    """An `until`-style query moment: a date alone includes that whole day (IST)."""
    return _moment(value, end_of_day=True)


_DAY_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def query_day(value: object) -> object:
    """A calendar day typed into a query or a body: 2026-12-02, 02-12-2026 or 02/12/2026 (never a
    number, which pydantic would read as seconds since 1970)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    for form in _DAY_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise PydanticCustomError("date_format", "must be a day such as 2026-12-02 or 02-12-2026")


def query_amount(value: object) -> object:
    """Rupees typed into a query (`1,00,000`, `₹ 500`) as plain text; emptied means no filter."""
    if not isinstance(value, str):
        return value
    return plain_amount_text(value) or None


def input_price(value: object) -> Decimal:
    """A price from JSON or a cell, checked by `parse_price`, as a pydantic error when it is wrong."""
    try:
        return parse_price(value)
    except ValueError as exc:
        raise PydanticCustomError("price", str(exc)) from None
