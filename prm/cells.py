"""Pure conversions of one cell: IMEIs, goods ids, text, dates. No I/O.

Each function returns the clean value or raises `CellError` with a message a person can act on.
"""

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

IST_OFFSET = timedelta(hours=5, minutes=30)
IST = timezone(IST_OFFSET, "IST")
UTC = timezone.utc

# Digit d at a doubled Luhn position counts as the digit sum of 2d.
_DOUBLED = str.maketrans("0123456789", "0246813579")


# Marks a cell the short path leaves to the full rules (and their messages).
NEEDS_CARE: Any = type("NeedsCare", (), {"__repr__": lambda self: "NEEDS_CARE"})()


class CellError(ValueError):
    """A cell value that cannot be used; the message says why."""


def luhn_ok(digits: str) -> bool:
    """True when the last digit is the Luhn check digit of the others (`digits` is ASCII digits)."""
    # Counted from the right, the check digit is not doubled, the next one is, and so on; for an
    # odd length (an IMEI has 15) that is every even index from the left, no reversal needed.
    if len(digits) % 2:
        plain, doubled = digits[0::2], digits[1::2].translate(_DOUBLED)
    else:
        plain, doubled = digits[1::2], digits[0::2].translate(_DOUBLED)
    # Summing the bytes of ASCII digits is the fast way to add them: each is 48 + the digit.
    return (sum(plain.encode()) + sum(doubled.encode()) - 48 * len(digits)) % 10 == 0


def luhn_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")


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


_IMEI_JUNK = str.maketrans("", "", " -\u00a0\t")


def parse_imei(value: Any) -> tuple[str, str | None]:
    """A 15-digit IMEI with a valid check digit, and a warning when it was repaired.

    Excel stores long numbers as floats and drops a leading zero, so a 14-digit numeric cell
    whose "0" + value passes Luhn is taken with a warning.
    """
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError("is not a whole number; an IMEI has 15 digits")
        text = str(int(value))
    elif numeric:
        text = str(value)
    else:
        text = cell_text(value).translate(_IMEI_JUNK).lstrip("'")
    if not text:
        raise CellError("is empty; an IMEI is required")
    if not text.isdigit() or not text.isascii():
        raise CellError("must contain only digits (15 of them)")
    warning = None
    if len(text) == 14 and numeric and luhn_ok("0" + text):
        text = "0" + text
        warning = f"Excel dropped the leading zero; read as {text}"
    if len(text) == 16:
        raise CellError("has 16 digits: it looks like an IMEISV or serial number, not an IMEI")
    if len(text) != 15:
        raise CellError(f"has {len(text)} digits; an IMEI has 15")
    if not luhn_ok(text):
        raise CellError(f"fails the IMEI check digit (a valid IMEI would end in {luhn_check_digit(text[:14])})")
    return text, warning


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


def parse_datetime(value: Any) -> datetime | None:
    """A UTC datetime from an Excel date cell, ISO text or day-first text; naive means IST.

    Day-first only (21/11/2026 is 21 November): the portal is Indian, and guessing month-first
    for 05/11 would silently swap months.
    """
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
    moment = parse_datetime(text)
    assert moment is not None  # parse_datetime gives None only for empty text
    if date_means_end_of_day and ":" not in text:  # a time always has a colon; a date never does
        moment += timedelta(days=1, microseconds=-1)
    return moment
