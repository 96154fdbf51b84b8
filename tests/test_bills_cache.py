"""The bills and terms cache (credit.bills_cache) over real HTTP against the loopback emulator:
two Tally requests per refresh whatever the callers, TTL, stale fallback with its age, bad days."""

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import tally_cache
from credit import bills_cache
from credit.bills_cache import BillsService, CreditBook, credit_book
from devtools.tally_emulator import Bill, Ledger, TallyServer
from kit.periods import CreditPeriod
from models import TallyLedgerTerms, TallyOpenBill
from tally_client import LedgerTerms
from tests.clock import Clock, controlled_clock
from tests.conftest import TALLY_COMPANY, make_settings, open_client

FAULTS = ["hang", "trickle", "cut", "http500", "html"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return controlled_clock(monkeypatch, tally_cache, bills_cache)


def _app(database_url: str, tally: TallyServer, **overrides: Any) -> Iterator[TestClient]:
    values: dict[str, Any] = {"tally_deadline_seconds": 0.5, "tally_read_timeout_seconds": 1.5,
                              "tally_breaker_seconds": 30, **overrides}
    with open_client(make_settings(database_url=database_url, tally_host=tally.url, tally_company=TALLY_COMPANY,
                                   **values)) as client:
        yield client


@pytest.fixture
def app(database_url: str, own_tally: TallyServer, clock: Clock) -> Iterator[TestClient]:
    own_tally.state.trickle_seconds = 0.05
    yield from _app(database_url, own_tally)


def book(client: TestClient) -> CreditBook:
    service: BillsService = client.app.state.bills
    with client.app.state.sessionmaker() as session:
        return credit_book(service, session)


def bills_of(result: CreditBook) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for bill in result.bills:
        found.setdefault(bill.ledger, []).append((bill.ref, str(bill.amount)))
    return found


class TestTheBook:
    def test_a_cold_book_is_read_live_in_exactly_two_requests(self, app: TestClient, own_tally: TallyServer) -> None:
        result = book(app)

        assert own_tally.state.requests == 2
        assert (result.balances_source, result.bills_source, result.problems) == ("live", "live", [])
        assert bills_of(result) == {
            "Sharma Mobile Point": [("GST/25-26/0412", "118000.00"), ("GST/25-26/0533", "12000.00")],
            "Ram & Sons Mobiles": [("R&S/001", "143900.00"), ("EXP/7", "99900.00")],
            "Verma Telecom": [("ADV/12", "-18500.00")]}
        assert result.bills_age_seconds == 0 and result.bills_as_of == bills_cache.today_ist()

    def test_on_account_is_the_balance_less_the_open_bills_by_hand(self, app: TestClient) -> None:
        on_account = book(app).on_account()

        assert on_account == {"sharma mobile point": Decimal("-5000.00"),  # a receipt not set against a bill
                              "ram & sons mobiles": Decimal("100.00"),  # 243,900.00 - 143,900.00 - 99,900.00 (forex)
                              "गुप्ता मोबाइल": Decimal("15000.50"),  # bill-wise off: all on account
                              "verma telecom": Decimal("0.00"),  # an advance, held as a credit bill
                              'jain "star" <mobiles>': Decimal("0.00")}

    def test_terms_come_with_the_balances_and_set_each_bills_due_date(self, app: TestClient) -> None:
        result = book(app)
        ram = {bill.ref: bill for bill in result.bills if bill.ledger == "Ram & Sons Mobiles"}

        assert result.terms["sharma mobile point"] == LedgerTerms(
            Decimal("200000.00"), CreditPeriod(days=30), True, "98290 12345", "sharma.mobile@example.in")
        assert result.terms["jain \"star\" <mobiles>"].credit_limit is None  # 0.00 is no limit
        assert result.terms["गुप्ता मोबाइल"].is_bill_wise is False
        assert result.credit_days(ram["R&S/001"]) == 45  # an empty period: the ledger's 45 days
        assert result.due_date(ram["R&S/001"]) == date(2025, 10, 30)
        assert result.due_date(ram["EXP/7"]) == date(2025, 12, 15)  # the bill's own due date

    def test_a_bill_with_no_period_on_a_ledger_with_none_takes_default_credit_days(
            self, database_url: str, own_tally: TallyServer, clock: Clock) -> None:
        own_tally.state.companies[0].ledgers.append(Ledger(
            "New Shop", "Sundry Debtors", "-10.00", bills=[Bill("N/1", "20251001", "-10.00")]))
        client_iter = _app(database_url, own_tally, default_credit_days=21)
        client = next(client_iter)
        try:
            result = book(client)
            [bill] = [b for b in result.bills if b.ledger == "New Shop"]

            assert (result.credit_days(bill), result.due_date(bill)) == (21, date(2025, 10, 22))
        finally:
            next(client_iter, None)

    def test_a_fresh_book_is_served_from_the_cache_without_asking_tally(self, app: TestClient,
                                                                        own_tally: TallyServer) -> None:
        book(app)

        again = book(app)

        assert (again.balances_source, again.bills_source, own_tally.state.requests) == ("cache", "cache", 2)
        assert len(again.bills) == 5

    def test_an_expired_book_is_read_again_in_two_requests(self, app: TestClient, own_tally: TallyServer,
                                                          clock: Clock) -> None:
        book(app)
        own_tally.state.companies[0].ledgers[0].bills.pop()
        clock.advance(hours=3)  # CACHE_TTL_MINUTES is 120

        again = book(app)

        assert (again.bills_source, own_tally.state.requests) == ("live", 4)
        assert [b.ref for b in again.bills if b.ledger == "Sharma Mobile Point"] == ["GST/25-26/0412"]

    def test_ledgers_and_bills_gone_from_tally_go_from_the_cache(self, app: TestClient, own_tally: TallyServer,
                                                                clock: Clock) -> None:
        book(app)
        own_tally.state.companies[0].ledgers = [l for l in own_tally.state.companies[0].ledgers
                                                if l.name != "Sharma Mobile Point"]
        clock.advance(hours=3)

        book(app)

        with app.app.state.sessionmaker() as session:
            assert session.get(TallyLedgerTerms, "sharma mobile point") is None
            assert session.scalar(select(func.count()).select_from(TallyOpenBill)
                                  .where(TallyOpenBill.ledger_key == "sharma mobile point")) == 0


class TestWhenTallyFails:
    @pytest.mark.parametrize("fault", FAULTS)
    def test_a_bad_tally_serves_the_cached_bills_with_their_age_and_why(self, app: TestClient, own_tally: TallyServer,
                                                                       clock: Clock, fault: str) -> None:
        book(app)
        clock.advance(hours=3)
        own_tally.state.set_fault(fault)

        result = book(app)

        assert (result.balances_source, result.bills_source) == ("stale_cache", "stale_cache")
        assert result.bills_age_seconds is not None and result.bills_age_seconds >= 3 * 3600
        assert len(result.bills) == 5 and result.on_account()["ram & sons mobiles"] == Decimal("100.00")
        assert result.problems and all(problem for problem in result.problems)
        assert own_tally.state.requests == 3  # the bills are not asked for once the group read failed (breaker)

    @pytest.mark.parametrize("fault", ["trickle", "cut", "http500", "html"])
    def test_a_failing_bills_read_keeps_the_cached_bills_and_the_fresh_balances(
            self, app: TestClient, own_tally: TallyServer, clock: Clock, fault: str) -> None:
        book(app)
        clock.advance(hours=3)
        own_tally.state.companies[0].ledgers[0].closing_balance = "-130000.00"
        own_tally.state.bills_fault = fault

        result = book(app)

        assert (result.balances_source, result.bills_source, own_tally.state.requests) == ("live", "stale_cache", 4)
        assert result.balances["sharma mobile point"] == Decimal("130000.00")
        assert len(result.bills) == 5 and result.bills_age_seconds is not None and result.bills_age_seconds >= 3 * 3600
        assert len(result.problems) == 1

    def test_nothing_cached_and_tally_down_is_an_empty_book_saying_why(self, app: TestClient,
                                                                       own_tally: TallyServer) -> None:
        own_tally.stop()

        result = book(app)

        assert (result.balances_source, result.bills_source, result.bills, result.bills_age_seconds) == (
            "stale_cache", "stale_cache", [], None)
        assert result.problems[0].startswith("Tally is not reachable at")


def test_twenty_concurrent_cold_callers_cost_exactly_two_tally_requests(database_url: str, tally: TallyServer) -> None:
    tally.state.delay_seconds = 0.3
    client_iter = _app(database_url, tally, tally_deadline_seconds=10, tally_read_timeout_seconds=10)
    client = next(client_iter)
    results: list[CreditBook] = []
    barrier = threading.Barrier(20)

    def ask() -> None:
        barrier.wait()
        results.append(book(client))

    try:
        threads = [threading.Thread(target=ask) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        next(client_iter, None)

    assert tally.state.requests == 2
    assert [(r.balances_source in ("live", "cache"), len(r.bills)) for r in results] == [(True, 5)] * 20
