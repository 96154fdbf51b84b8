"""History worked by hand over three days of one small book."""

from datetime import date
from decimal import Decimal

from credit.history import LedgerDay, changes, day_totals


def day(name: str, od: str, overdue: str, *reasons: str) -> LedgerDay:
    return LedgerDay(ledger_name=name, retailer_codes=(f"RT-{name[:3].upper()}",), balance=Decimal("1000.00"),
                     overdue_total=Decimal(overdue), od_amount=Decimal(od), hold_reasons=tuple(reasons))


MONDAY = {"Sharma": day("Sharma", "50000.00", "20000.00", "uncovered"),
          "Verma": day("Verma", "-3000.00", "0.00"),
          "Gupta": day("Gupta", "1000.00", "5000.00", "uncovered")}
TUESDAY = {"Sharma": day("Sharma", "80000.00", "20000.00", "uncovered", "overdue"),
           "Verma": day("Verma", "12000.00", "0.00", "uncovered"),
           "Gupta": day("Gupta", "-500.00", "0.00"),
           "Khan": day("Khan", "0.00", "700.00")}


def test_daily_totals_count_only_the_od_list() -> None:
    totals = day_totals(date(2026, 11, 30), MONDAY.values())

    assert totals.od_amount == Decimal("51000.00")  # Verma's -3,000.00 is not OD
    assert totals.overdue_total == Decimal("25000.00")
    assert (totals.retailers_in_od, totals.on_hold) == (2, 2)


def test_changes_name_who_entered_left_worsened_and_improved_largest_first() -> None:
    found = {c.ledger_name: c for c in changes(MONDAY, TUESDAY)}
    order = [c.ledger_name for c in changes(MONDAY, TUESDAY)]

    assert order == ["Sharma", "Verma", "Gupta", "Khan"]  # OD moves 30,000 / 12,000 / 1,000; Khan only overdue
    assert found["Sharma"].kinds == ("worse",) and found["Sharma"].od_change == Decimal("30000.00")
    assert found["Verma"].kinds == ("entered_od", "entered_hold", "worse")
    assert found["Verma"].od_change == Decimal("12000.00")  # from not in the list (0) to 12,000
    assert found["Gupta"].kinds == ("left_od", "left_hold", "better")
    assert (found["Gupta"].od_change, found["Gupta"].overdue_change) == (Decimal("-1000.00"), Decimal("-5000.00"))
    assert found["Khan"].kinds == ("worse",) and found["Khan"].before is None


def test_no_change_lists_nobody() -> None:
    assert changes(MONDAY, MONDAY) == []
