"""How the book changes over time, as pure functions of daily snapshots (no database).

A snapshot is one ledger on one day: its balance, overdue, OD and hold reasons. A ledger is "in
the OD list" when its OD is above zero and "on hold" when it has any hold reason.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerDay:
    ledger_name: str
    retailer_codes: tuple[str, ...]
    balance: Decimal
    overdue_total: Decimal
    od_amount: Decimal
    hold_reasons: tuple[str, ...]

    @property
    def in_od(self) -> bool:
        return self.od_amount > 0

    @property
    def on_hold(self) -> bool:
        return bool(self.hold_reasons)


@dataclass(frozen=True)
class DayTotals:
    day: date
    od_amount: Decimal  # the OD list's total: only positive OD counts
    overdue_total: Decimal
    retailers_in_od: int
    on_hold: int


def day_totals(day: date, ledgers: Iterable[LedgerDay]) -> DayTotals:
    rows = list(ledgers)
    return DayTotals(day=day, od_amount=sum((r.od_amount for r in rows if r.in_od), ZERO),
                     overdue_total=sum((r.overdue_total for r in rows), ZERO),
                     retailers_in_od=sum(r.in_od for r in rows), on_hold=sum(r.on_hold for r in rows))


@dataclass(frozen=True)
class Change:
    ledger_name: str
    retailer_codes: tuple[str, ...]
    kinds: tuple[str, ...]  # entered_od, left_od, entered_hold, left_hold, worse, better
    od_change: Decimal
    overdue_change: Decimal
    before: LedgerDay | None
    after: LedgerDay | None


def _kinds(before: LedgerDay | None, after: LedgerDay | None, od_change: Decimal, overdue_change: Decimal) -> list[str]:
    was_od, is_od = bool(before and before.in_od), bool(after and after.in_od)
    was_hold, is_hold = bool(before and before.on_hold), bool(after and after.on_hold)
    kinds = []
    if is_od != was_od:
        kinds.append("entered_od" if is_od else "left_od")
    if is_hold != was_hold:
        kinds.append("entered_hold" if is_hold else "left_hold")
    # Worse means owing more beyond the stock, or more of it overdue; better the reverse.
    worse, better = od_change > 0 or overdue_change > 0, od_change < 0 or overdue_change < 0
    if worse and not better:
        kinds.append("worse")
    elif better and not worse:
        kinds.append("better")
    elif worse and better:
        kinds.append("worse" if od_change + overdue_change > 0 else "better")
    return kinds


def changes(before: dict[str, LedgerDay], after: dict[str, LedgerDay]) -> list[Change]:
    """Who entered or left the OD list or the hold list, and who got worse or better, by ledger;
    the largest movement first (OD change, then overdue change, in size)."""
    found = []
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        od_change = (new.od_amount if new and new.in_od else ZERO) - (old.od_amount if old and old.in_od else ZERO)
        overdue_change = (new.overdue_total if new else ZERO) - (old.overdue_total if old else ZERO)
        kinds = _kinds(old, new, od_change, overdue_change)
        if kinds:
            codes = (new or old).retailer_codes  # type: ignore[union-attr]
            found.append(Change(name, codes, tuple(kinds), od_change, overdue_change, old, new))
    return sorted(found, key=lambda c: (-abs(c.od_change), -abs(c.overdue_change), c.ledger_name))
