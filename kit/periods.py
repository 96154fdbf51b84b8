"""Dates, credit periods and Yes/No as Tally writes them (`20251003`, `3-Oct-2025`, `30 Days`), as values.

Pure text-to-value parsing for the Tally reads; the tags they come in stay in `tally_client`.
"""

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4}|\d{2})")
_DAYS = re.compile(r"(\d{1,5})(?:days?)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CreditPeriod:
    """A credit period: a number of days after the bill date, or a fixed due date."""

    days: int | None = None
    due_date: date | None = None


def parse_date(text: str | None) -> date | None:
    """`YYYYMMDD` or `d-Mon-yyyy` (also `d-Mon-yy`); None when empty or not a real date."""
    raw = "".join((text or "").split())
    try:
        if len(raw) == 8 and raw.isdigit():
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        match = _DAY_MONTH_YEAR.fullmatch(raw)
        if match and match.group(2).lower() in _MONTHS:
            year = int(match.group(3)) + (2000 if len(match.group(3)) == 2 else 0)
            return date(year, _MONTHS[match.group(2).lower()], int(match.group(1)))
    except ValueError:  # 20250231, 31-Feb-2025
        return None
    return None


def parse_credit_period(text: str | None, shown: str | None = None) -> CreditPeriod | None:
    """`30`, `30 Days` or a due date; `shown` (Tally's `P` attribute) when the text is empty.

    None when empty or unreadable: the ledger's (or the default) credit days then apply.
    """
    raw = "".join((text or "").split()) or "".join((shown or "").split())
    days = _DAYS.fullmatch(raw)
    if days:
        return CreditPeriod(days=int(days.group(1)))
    due = parse_date(raw)
    return CreditPeriod(due_date=due) if due else None


def parse_logical(text: str | None) -> bool | None:
    """Tally's `Yes` / `No`; None when empty or anything else."""
    value = (text or "").strip().lower()
    return True if value == "yes" else False if value == "no" else None
