"""Ageing worked by hand: each expected figure below was computed on paper from the bills."""

from datetime import date
from decimal import Decimal

import pytest

from credit.ageing import Slabs, age_bill, age_ledger, hold_reasons, limit_used_pct
from credit.tally_bills import OpenBill, due_date
from kit.periods import CreditPeriod

AS_OF = date(2026, 12, 2)
SLABS = Slabs()


def bill(ref: str, bill_date: date, amount: str, credit_days: int | None = 30) -> OpenBill:
    return OpenBill(ref=ref, ledger="Sharma Mobile Point", bill_date=bill_date, amount=Decimal(amount),
                    period=None if credit_days is None else CreditPeriod(days=credit_days))


def due(one: OpenBill) -> date | None:
    return due_date(one, ledger_period=CreditPeriod(days=45), default_days=0)  # the ledger gives 45 days


@pytest.mark.parametrize(("bill_date", "days", "bucket"), [
    (date(2026, 11, 2), 0, "not_due"),        # due today: not yet overdue
    (date(2026, 11, 1), 1, "overdue_1_30"),   # due yesterday
    (date(2026, 10, 3), 30, "overdue_1_30"),  # the last day of the first slab
    (date(2026, 10, 2), 31, "overdue_31_60"),
    (date(2026, 9, 3), 60, "overdue_31_60"),
    (date(2026, 9, 2), 61, "overdue_61_90"),
    (date(2026, 8, 4), 90, "overdue_61_90"),
    (date(2026, 8, 3), 91, "overdue_90_plus"),
    (date(2025, 3, 15), 597, "overdue_90_plus"),  # billed in the previous financial year
])
def test_each_slab_boundary_lands_on_the_side_worked_by_hand(bill_date: date, days: int, bucket: str) -> None:
    one = bill("B", bill_date, "100.00")
    aged = age_bill(one, due=due(one), as_of=AS_OF, slabs=SLABS)

    assert (aged.overdue_days, aged.bucket) == (days, bucket)


def test_bill_date_basis_ages_from_the_bill_itself() -> None:
    one = bill("B", date(2026, 11, 1), "100.00", credit_days=45)
    aged = age_bill(one, due=due(one), as_of=AS_OF, slabs=SLABS, basis="bill_date")

    assert aged.due_date == date(2026, 12, 16) and (aged.overdue_days, aged.bucket) == (31, "overdue_31_60")


def test_a_bill_with_no_period_takes_its_ledgers_credit_days() -> None:
    one = bill("B", date(2026, 10, 1), "100.00", credit_days=None)  # due 15-11 with the ledger's 45 days
    aged = age_bill(one, due=due(one), as_of=AS_OF, slabs=SLABS)

    assert (aged.due_date, aged.overdue_days, aged.bucket) == (date(2026, 11, 15), 17, "overdue_1_30")


def test_a_ledger_split_by_bucket_with_an_unallocated_receipt() -> None:
    # Owed 2,45,000.00 on the books; bills add to 2,60,000.00, so a receipt of 15,000.00 sits on account.
    bills = [bill("GST/25-26/0412", date(2025, 10, 3), "118000.00"),   # 395 days past due
             bill("GST/26-27/0101", date(2026, 10, 15), "42000.00"),   # due 14-11: 18 days
             bill("GST/26-27/0190", date(2026, 11, 20), "100000.00")]  # due 20-12: not due
    ageing = age_ledger(Decimal("245000.00"), bills, due_of=due, as_of=AS_OF, slabs=SLABS)

    assert ageing.buckets == {"not_due": Decimal("100000.00"), "overdue_1_30": Decimal("42000.00"),
                              "overdue_31_60": Decimal("0.00"), "overdue_61_90": Decimal("0.00"),
                              "overdue_90_plus": Decimal("118000.00")}
    assert ageing.overdue_total == Decimal("160000.00")
    assert ageing.on_account == Decimal("-15000.00")
    oldest = ageing.oldest_overdue
    assert oldest is not None and (oldest.bill.ref, oldest.overdue_days) == ("GST/25-26/0412", 395)


def test_bill_wise_off_puts_the_whole_balance_on_account() -> None:
    ageing = age_ledger(Decimal("50000.00"), [], due_of=due, as_of=AS_OF, slabs=SLABS)

    assert ageing.overdue_total == Decimal("0.00") and ageing.on_account == Decimal("50000.00")
    assert ageing.oldest_overdue is None


def test_a_credit_note_against_a_bill_is_never_the_oldest_overdue() -> None:
    ageing = age_ledger(Decimal("-5000.00"), [bill("CN/7", date(2026, 1, 1), "-5000.00")], due_of=due, as_of=AS_OF,
                        slabs=SLABS)

    assert ageing.buckets["overdue_90_plus"] == Decimal("-5000.00") and ageing.oldest_overdue is None


def test_slabs_come_from_one_setting_and_must_rise() -> None:
    assert Slabs((15, 45)).names == ("not_due", "overdue_1_15", "overdue_16_45", "overdue_45_plus")
    with pytest.raises(ValueError, match="must rise"):
        Slabs((30, 30, 90))


@pytest.mark.parametrize(("balance", "limit", "pct"), [
    ("150000.00", "200000.00", Decimal("75.00")), ("1.00", "3.00", Decimal("33.33")), ("5.00", None, None),
    ("5.00", "0.00", None),  # 0 means no limit
])
def test_limit_used(balance: str, limit: str | None, pct: Decimal | None) -> None:
    assert limit_used_pct(Decimal(balance), None if limit is None else Decimal(limit)) == pct


def test_every_hold_reason_applies_on_its_own_and_together() -> None:
    rules = {"hold_overdue_days": 30, "hold_min_od": Decimal("0.00")}

    assert hold_reasons(balance=Decimal("250000.00"), credit_limit=Decimal("200000.00"), oldest_overdue_days=31,
                        od_amount=Decimal("0.01"), **rules) == ["over_limit", "overdue", "uncovered"]
    assert hold_reasons(balance=Decimal("200000.00"), credit_limit=Decimal("200000.00"), oldest_overdue_days=30,
                        od_amount=Decimal("0.00"), **rules) == []  # each exactly at its line: no hold
    assert hold_reasons(balance=Decimal("9e9"), credit_limit=None, oldest_overdue_days=None, od_amount=None,
                        **rules) == []
