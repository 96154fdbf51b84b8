"""Dates, credit periods and Yes/No as Tally writes them (kit.periods)."""

from datetime import date

import pytest

from kit.periods import CreditPeriod, parse_credit_period, parse_date, parse_logical


class TestDates:
    @pytest.mark.parametrize(("text", "expected"), [
        ("20251003", date(2025, 10, 3)),
        ("3-Oct-2025", date(2025, 10, 3)),
        ("03-oct-2025", date(2025, 10, 3)),
        (" 14-Nov-2025 \r\n", date(2025, 11, 14)),
        ("1-Apr-25", date(2025, 4, 1)),
    ])
    def test_both_of_tallys_date_forms_are_read(self, text: str, expected: date) -> None:
        assert parse_date(text) == expected

    @pytest.mark.parametrize("text", ["", None, "20250231", "31-Feb-2025", "3-Okt-2025", "2025-10-03", "yesterday"])
    def test_an_empty_or_impossible_date_is_none(self, text: str | None) -> None:
        assert parse_date(text) is None


class TestCreditPeriods:
    @pytest.mark.parametrize(("text", "expected"), [
        ("30 Days", CreditPeriod(days=30)),
        ("45", CreditPeriod(days=45)),
        ("1 Day", CreditPeriod(days=1)),
        ("0 Days", CreditPeriod(days=0)),
        ("  60  days ", CreditPeriod(days=60)),
        ("15-Dec-2025", CreditPeriod(due_date=date(2025, 12, 15))),
        ("20251215", CreditPeriod(due_date=date(2025, 12, 15))),
    ])
    def test_days_text_and_due_dates_are_read(self, text: str, expected: CreditPeriod) -> None:
        assert parse_credit_period(text) == expected

    def test_an_empty_text_takes_the_shown_attribute(self) -> None:
        assert parse_credit_period("", "30 Days") == CreditPeriod(days=30)

    @pytest.mark.parametrize("text", ["", None, "soon", "30 Weeks", "-5 Days"])
    def test_an_empty_or_unreadable_period_is_none(self, text: str | None) -> None:
        assert parse_credit_period(text) is None


@pytest.mark.parametrize(("text", "expected"), [("Yes", True), (" no ", False), ("", None), (None, None), ("Y", None)])
def test_tallys_logical_values_are_read(text: str | None, expected: bool | None) -> None:
    assert parse_logical(text) is expected
