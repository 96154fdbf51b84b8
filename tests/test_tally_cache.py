"""The Tally cache over real HTTP: TTL, stale fallback, single flight, one request per group."""

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

import tally_cache
from devtools.tally_emulator import Ledger, TallyServer
from models import utcnow
from tests.conftest import TALLY_COMPANY, make_settings, open_client


def balance(client: TestClient, ledger: str, **params: str) -> dict:
    response = client.get("/tally/closing-balance", params={"ledger": ledger, **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def app_on_own_tally(database_url: str, own_tally: TallyServer) -> Iterator[TestClient]:
    settings = make_settings(database_url=database_url, tally_host=own_tally.url, tally_company=TALLY_COMPANY,
                             tally_read_timeout_seconds=0.5)
    with open_client(settings) as client:
        yield client


class TestCaching:
    def test_the_first_read_is_live_and_answers_the_documented_shape(self, tally_client_app: TestClient) -> None:
        body = balance(tally_client_app, "Sharma Mobile Point")

        assert {k: body[k] for k in ("ledger", "closing_balance", "dr_cr", "blank", "source")} == {
            "ledger": "Sharma Mobile Point", "closing_balance": "125000.00", "dr_cr": "Dr", "blank": False, "source": "live"}
        assert body["age_seconds"] == 0 and body["fetched_at"].endswith("Z")

    def test_one_group_read_serves_every_ledger_in_it(self, tally_client_app: TestClient, tally: TallyServer) -> None:
        balance(tally_client_app, "Sharma Mobile Point")

        others = [balance(tally_client_app, name) for name in ("Ram & Sons Mobiles", "गुप्ता मोबाइल", "verma telecom")]

        assert tally.state.requests == 1
        assert [o["source"] for o in others] == ["cache", "cache", "cache"]
        assert [o["closing_balance"] for o in others] == ["243900.00", "15000.50", "-18500.00"]
        assert others[2]["dr_cr"] == "Cr"

    def test_a_ledger_outside_the_group_is_read_on_its_own(self, tally_client_app: TestClient, tally: TallyServer) -> None:
        body = balance(tally_client_app, "HDFC Bank")

        assert (body["source"], body["closing_balance"], tally.state.requests) == ("live", "500000.00", 2)
        assert balance(tally_client_app, "HDFC Bank")["source"] == "cache"

    def test_a_blank_balance_is_zero_and_says_so(self, tally_client_app: TestClient) -> None:
        body = balance(tally_client_app, 'Jain "Star" <Mobiles>')

        assert (body["closing_balance"], body["blank"], body["dr_cr"]) == ("0.00", True, None)

    def test_an_expired_entry_is_read_again(self, tally_client_app: TestClient, tally: TallyServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
        balance(tally_client_app, "Sharma Mobile Point")
        assert balance(tally_client_app, "Sharma Mobile Point")["source"] == "cache"
        requests_before = tally.state.requests
        tally.state.companies[0].ledgers[0] = Ledger("Sharma Mobile Point", "Sundry Debtors", "-130000.00")
        later = utcnow() + timedelta(minutes=121)  # CACHE_TTL_MINUTES is 120
        monkeypatch.setattr(tally_cache, "utcnow", lambda: later)

        again = balance(tally_client_app, "Sharma Mobile Point")

        assert (again["source"], again["closing_balance"]) == ("live", "130000.00")
        assert tally.state.requests == requests_before + 1

    def test_refresh_true_reads_tally_even_when_fresh(self, tally_client_app: TestClient, tally: TallyServer) -> None:
        balance(tally_client_app, "Sharma Mobile Point")

        assert balance(tally_client_app, "Sharma Mobile Point", refresh="true")["source"] == "live"
        assert tally.state.requests == 2

    def test_an_unknown_ledger_is_404(self, tally_client_app: TestClient) -> None:
        response = tally_client_app.get("/tally/closing-balance", params={"ledger": "Nobody Mobiles"})

        assert response.status_code == 404
        assert response.json()["detail"].startswith("Tally has no ledger named 'Nobody Mobiles' in Galaxy Mobile Distributors")


class TestWhenTallyFails:
    def test_a_stopped_tally_serves_the_last_value_marked_stale(self, app_on_own_tally: TestClient,
                                                                own_tally: TallyServer) -> None:
        balance(app_on_own_tally, "Sharma Mobile Point")
        own_tally.stop()

        body = balance(app_on_own_tally, "Sharma Mobile Point", refresh="true")

        assert (body["source"], body["closing_balance"]) == ("stale_cache", "125000.00")
        status = app_on_own_tally.get("/tally/status").json()
        assert status["reachable"] == "unreachable"
        assert status["counters"]["stale_serves"] == 1
        assert status["last_error"].startswith("Tally is not reachable at")

    def test_a_hanging_tally_times_out_and_serves_stale(self, app_on_own_tally: TestClient, own_tally: TallyServer) -> None:
        balance(app_on_own_tally, "Sharma Mobile Point")
        own_tally.state.hang.set()

        started = time.perf_counter()
        body = balance(app_on_own_tally, "Sharma Mobile Point", refresh="true")

        assert body["source"] == "stale_cache"
        assert time.perf_counter() - started < 5

    def test_tally_down_with_nothing_cached_is_503_naming_the_reason(self, app_on_own_tally: TestClient,
                                                                      own_tally: TallyServer) -> None:
        url = own_tally.url
        own_tally.stop()

        response = app_on_own_tally.get("/tally/closing-balance", params={"ledger": "Sharma Mobile Point"})

        assert response.status_code == 503
        assert response.json() == {"detail": f"Tally is not reachable at {url}: is it running with the XML port enabled?",
                                   "errors": []}

    def test_a_tally_error_with_nothing_cached_is_502_with_tallys_message(self, database_url: str,
                                                                          tally: TallyServer) -> None:
        settings = make_settings(database_url=database_url, tally_host=tally.url, tally_company="Wrong Company Pvt Ltd")
        with open_client(settings) as client:
            response = client.get("/tally/closing-balance", params={"ledger": "Sharma Mobile Point"})

        assert response.status_code == 502
        assert "Could not set 'SVCurrentCompany' to 'Wrong Company Pvt Ltd'" in response.json()["detail"]


class TestSingleFlight:
    def test_twenty_concurrent_cold_requests_make_one_tally_request(self, tally_client_app: TestClient,
                                                                    tally: TallyServer) -> None:
        tally.state.delay_seconds = 0.3
        results: list[dict] = []
        barrier = threading.Barrier(20)

        def ask() -> None:
            barrier.wait()
            results.append(tally_client_app.get("/tally/closing-balance", params={"ledger": "Sharma Mobile Point"}).json())

        threads = [threading.Thread(target=ask) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert tally.state.requests == 1
        assert [r["closing_balance"] for r in results] == ["125000.00"] * 20


class TestOtherEndpoints:
    def test_ledgers_of_the_group_are_listed_with_balances(self, tally_client_app: TestClient) -> None:
        body = tally_client_app.get("/tally/ledgers").json()

        assert (body["group"], body["source"], body["total"]) == ("Sundry Debtors", "live", 5)
        assert [(item["ledger"], item["parent"], item["group_name"]) for item in body["items"]] == [
            ('Jain "Star" <Mobiles>', "Sundry Debtors", "Sundry Debtors"),
            ("Ram & Sons Mobiles", "Jaipur Retailers", "Sundry Debtors"),  # a sub-group, read with its parent
            ("Sharma Mobile Point", "Sundry Debtors", "Sundry Debtors"),
            ("Verma Telecom", "Sundry Debtors", "Sundry Debtors"),
            ("गुप्ता मोबाइल", "Sundry Debtors", "Sundry Debtors")]  # ordered by normalised name

    def test_ledgers_are_searched_by_part_of_the_name_in_any_case(self, tally_client_app: TestClient) -> None:
        body = tally_client_app.get("/tally/ledgers", params={"search": "  MOBILE  point"}).json()

        assert [item["ledger"] for item in body["items"]] == ["Sharma Mobile Point"]
        assert (body["total"], body["warning"]) == (1, None)

    def test_a_ledger_search_treats_percent_and_underscore_as_letters(self, tally_client_app: TestClient) -> None:
        body = tally_client_app.get("/tally/ledgers", params={"search": "%"}).json()

        assert (body["total"], body["items"]) == (0, [])

    def test_an_unknown_group_answers_empty_with_a_warning_naming_it(self, tally_client_app: TestClient) -> None:
        body = tally_client_app.get("/tally/ledgers", params={"group": "Sundry Debtor"}).json()

        assert (body["total"], body["items"]) == (0, [])
        assert body["warning"].startswith("Tally has no ledgers under the group 'Sundry Debtor' in ")

    def test_the_admin_refresh_reads_the_group_now(self, tally_client_app: TestClient, tally: TallyServer) -> None:
        response = tally_client_app.post("/admin/tally/refresh")

        assert response.status_code == 200
        assert (response.json()["ledgers"], tally.state.requests) == (5, 1)

    def test_the_debug_view_shows_age_and_freshness(self, tally_client_app: TestClient) -> None:
        tally_client_app.post("/admin/tally/refresh")

        body = tally_client_app.get("/debug/tally-cache").json()

        assert body["total"] == 5
        assert all(entry["fresh"] and entry["read_as"] == "group" for entry in body["items"])

    def test_health_reports_tally_as_last_seen_without_failing_on_it(self, tally_client_app: TestClient,
                                                                      client: TestClient) -> None:
        balance(tally_client_app, "Sharma Mobile Point")
        client.get("/tally/closing-balance", params={"ledger": "Not Cached Mobiles"})  # nothing listens there

        assert tally_client_app.get("/health").json()["tally"] == "reachable"
        assert {k: v for k, v in client.get("/health").json().items() if k in ("status", "tally")} == {
            "status": "ok", "tally": "unreachable"}

    def test_status_counts_hits_and_misses(self, tally_client_app: TestClient) -> None:
        balance(tally_client_app, "Sharma Mobile Point")
        balance(tally_client_app, "Sharma Mobile Point")

        counters = tally_client_app.get("/tally/status").json()["counters"]

        assert (counters["hits"], counters["misses"], counters["tally_requests"]) == (1, 1, 1)


def test_balances_are_decimal_in_the_cache(tally_client_app: TestClient) -> None:
    balance(tally_client_app, "गुप्ता मोबाइल")

    with tally_client_app.app.state.sessionmaker() as session:
        from models import TallyLedgerCache

        row = session.get(TallyLedgerCache, "गुप्ता मोबाइल")
    assert row is not None and row.closing_balance == Decimal("15000.50")
