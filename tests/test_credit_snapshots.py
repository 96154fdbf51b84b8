"""Snapshots on a real database over several days, with a controlled clock."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import errors
from credit.snapshots import LedgerPosition, changes_since, has_snapshot, history, ledger_line, take
from models import CreditSnapshot


def position(name: str, code: str, od: str, overdue: str, *reasons: str) -> LedgerPosition:
    return LedgerPosition(ledger_name=name, retailer_codes=(code,), balance=Decimal("100000.00"),
                          overdue_total=Decimal(overdue), buckets={"not_due": Decimal("1.10"), "overdue_1_30": Decimal(overdue)},
                          stock_value=Decimal("5000.00"), od_amount=Decimal(od), hold_reasons=reasons)


def test_history_over_three_days_with_a_retake(session: Session) -> None:
    take(session, [position("Sharma", "JPR/0042", "50000.00", "20000.00", "uncovered"),
                   position("Verma", "RT2", "-3000.00", "0.00")], day=date(2026, 11, 30))
    take(session, [position("Sharma", "JPR/0042", "1.00", "1.00")], day=date(2026, 12, 1))
    # The same day again: the later snapshot replaces the earlier one, nothing else moves.
    take(session, [position("Sharma", "JPR/0042", "80000.00", "20000.00", "uncovered", "overdue"),
                   position("Verma", "RT2", "12000.00", "0.00", "uncovered")], day=date(2026, 12, 1))
    take(session, [position("Sharma", "JPR/0042", "60000.00", "25000.00", "uncovered")], day=date(2026, 12, 2))

    days = history(session, start=date(2026, 11, 1), end=date(2026, 12, 2))

    assert [(d.day, d.od_amount, d.overdue_total, d.retailers_in_od, d.on_hold) for d in days] == [
        (date(2026, 11, 30), Decimal("50000.00"), Decimal("20000.00"), 1, 1),
        (date(2026, 12, 1), Decimal("92000.00"), Decimal("20000.00"), 2, 2),
        (date(2026, 12, 2), Decimal("60000.00"), Decimal("25000.00"), 1, 1)]
    assert has_snapshot(session, day=date(2026, 12, 1)) and not has_snapshot(session, day=date(2026, 11, 29))
    kept = session.scalars(select(CreditSnapshot).where(CreditSnapshot.ledger_name == "Sharma")
                           .order_by(CreditSnapshot.day)).all()
    assert kept[0].buckets == '{"not_due": "1.10", "overdue_1_30": "20000.00"}'  # money stays exact in JSON


def test_changes_since_compare_the_last_snapshot_before_with_the_latest(session: Session) -> None:
    take(session, [position("Sharma", "JPR/0042", "50000.00", "20000.00", "uncovered"),
                   position("Verma", "RT2", "12000.00", "0.00", "uncovered")], day=date(2026, 11, 25))
    take(session, [position("Sharma", "JPR/0042", "90000.00", "20000.00", "uncovered")], day=date(2026, 12, 2))

    base, latest, found = changes_since(session, since=date(2026, 11, 26), today=date(2026, 12, 2))

    assert (base, latest) == (date(2026, 11, 25), date(2026, 12, 2))
    assert [(c.ledger_name, c.kinds, c.od_change) for c in found] == [
        ("Sharma", ("worse",), Decimal("40000.00")),
        ("Verma", ("left_od", "left_hold", "better"), Decimal("-12000.00"))]
    assert [day for day, _ in ledger_line(session, retailer_code="JPR/0042", start=date(2026, 11, 1),
                                          end=date(2026, 12, 2))] == [date(2026, 11, 25), date(2026, 12, 2)]


def test_a_period_backwards_is_a_422_naming_from(session: Session) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        history(session, start=date(2026, 12, 2), end=date(2026, 12, 1))

    assert refused.value.errors[0].loc == ["query", "from"]
