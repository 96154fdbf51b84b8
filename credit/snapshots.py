"""Daily snapshots of each ledger's credit position, and the history read from them.

Taken at the first credit report of a day (IST) and on demand; a second snapshot on the same day
replaces that day's rows in one transaction, so the day's last one wins and earlier days are
never touched.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import database
import errors
from access import audit
from access.actor import Actor
from credit.history import Change, DayTotals, LedgerDay, changes, day_totals
from models import CreditSnapshot, utcnow

MAX_HISTORY_DAYS = 3660


@dataclass(frozen=True)
class LedgerPosition:
    """What a snapshot keeps of one report row."""

    ledger_name: str
    retailer_codes: tuple[str, ...]
    balance: Decimal
    overdue_total: Decimal
    buckets: dict[str, Decimal]
    stock_value: Decimal
    od_amount: Decimal
    hold_reasons: tuple[str, ...]


def take(session: Session, positions: list[LedgerPosition], *, day: date, now: datetime | None = None,
         actor: Actor | None = None) -> int:
    """Keep today's positions, replacing any taken earlier the same day, and audit it when someone
    asked for it (`actor`); returns the rows kept."""
    database.begin_write(session)
    session.execute(delete(CreditSnapshot).where(CreditSnapshot.day == day))
    taken_at = now or utcnow()
    session.add_all(CreditSnapshot(day=day, ledger_name=p.ledger_name, retailer_codes=",".join(p.retailer_codes),
                                   balance=p.balance, overdue_total=p.overdue_total,
                                   buckets=json.dumps({k: f"{v:.2f}" for k, v in p.buckets.items()}),
                                   stock_value=p.stock_value, od_amount=p.od_amount,
                                   hold_reasons=",".join(p.hold_reasons), taken_at=taken_at) for p in positions)
    if actor is not None:
        audit.record(session, actor, "credit.snapshot", target=day.isoformat(), detail={"ledgers": len(positions)})
    session.commit()
    return len(positions)


def has_snapshot(session: Session, *, day: date) -> bool:
    return session.scalar(select(func.count()).select_from(CreditSnapshot).where(CreditSnapshot.day == day)) > 0


def _day(row: CreditSnapshot) -> LedgerDay:
    return LedgerDay(ledger_name=row.ledger_name, retailer_codes=tuple(filter(None, row.retailer_codes.split(","))),
                     balance=row.balance, overdue_total=row.overdue_total, od_amount=row.od_amount,
                     hold_reasons=tuple(filter(None, row.hold_reasons.split(","))))


def _check_days(start: date, end: date) -> None:
    if start > end:
        raise errors.InvalidInput(f"'from' ({start:%d-%m-%Y}) is after 'to' ({end:%d-%m-%Y}).",
                                  [errors.item(["query", "from"], "must not be after 'to'")])
    if (end - start).days > MAX_HISTORY_DAYS:
        raise errors.InvalidInput(f"Ask for at most {MAX_HISTORY_DAYS} days at a time.",
                                  [errors.item(["query", "from"], f"at most {MAX_HISTORY_DAYS} days before 'to'")])


def history(session: Session, *, start: date, end: date) -> list[DayTotals]:
    """Daily totals for each day with a snapshot, oldest first."""
    _check_days(start, end)
    by_day: dict[date, list[LedgerDay]] = {}
    for row in session.scalars(select(CreditSnapshot).where(CreditSnapshot.day.between(start, end))
                               .order_by(CreditSnapshot.day, CreditSnapshot.ledger_name)):
        by_day.setdefault(row.day, []).append(_day(row))
    return [day_totals(day, rows) for day, rows in by_day.items()]


def _latest_day(session: Session, *, on_or_before: date) -> date | None:
    return session.scalar(select(func.max(CreditSnapshot.day)).where(CreditSnapshot.day <= on_or_before))


def _positions(session: Session, day: date) -> dict[str, LedgerDay]:
    return {row.ledger_name: _day(row) for row in session.scalars(select(CreditSnapshot).where(CreditSnapshot.day == day))}


def changes_since(session: Session, *, since: date, today: date) -> tuple[date | None, date | None, list[Change]]:
    """(the snapshot day compared from, the one compared to, the changes): from the last snapshot
    on or before `since` to the latest one."""
    latest = _latest_day(session, on_or_before=today)
    base = _latest_day(session, on_or_before=since)
    if latest is None or base is None or base >= latest:
        return base, latest, []
    return base, latest, changes(_positions(session, base), _positions(session, latest))


def ledger_line(session: Session, *, retailer_code: str, start: date, end: date) -> list[tuple[date, LedgerDay]]:
    """One retailer's snapshots (through its ledger's rows), oldest first."""
    _check_days(start, end)
    # The database narrows to rows naming the code; the split keeps only exact codes (RT1, not RT10).
    rows = session.scalars(select(CreditSnapshot).where(CreditSnapshot.day.between(start, end),
                                                        CreditSnapshot.retailer_codes.contains(retailer_code,
                                                                                               autoescape=True))
                           .order_by(CreditSnapshot.day))
    return [(row.day, _day(row)) for row in rows if retailer_code in row.retailer_codes.split(",")]
