"""Bad days for Tally, over real HTTP against the loopback emulator: a hung, trickling, cut-short,
HTTP-500 or HTML-answering Tally never stalls the service, and every answer says what happened.

Deadlines are short (0.5 s with a cache, 1.5 s without) so the suite stays fast; the clock the
cache and the breaker read is moved by the `clock` fixture instead of sleeping.
"""

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import reports
import tally_cache
from devtools.tally_emulator import Ledger, TallyServer
from kit.process_lock import ProcessLock
from models import TallyLedgerCache
from tests.clock import Clock, controlled_clock
from tests.conftest import TALLY_COMPANY, failing_inserts, make_settings, open_client
from tests.test_reports import MakeXlsx, import_rows, report, set_ledgers, shop

DEADLINE = 0.5
PATIENT = 1.5
FAULTS = ["hang", "trickle", "cut", "http500", "html"]
SHARMA = "Sharma Mobile Point"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return controlled_clock(monkeypatch, tally_cache, reports)  # a row's "stale" is judged in reports too


def bad_day_settings(database_url: str, tally: TallyServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {"tally_deadline_seconds": DEADLINE, "tally_read_timeout_seconds": PATIENT,
                              "tally_breaker_seconds": 30, **overrides}
    return make_settings(database_url=database_url, tally_host=tally.url, tally_company=TALLY_COMPANY, **values)


@pytest.fixture
def app(database_url: str, own_tally: TallyServer, clock: Clock) -> Iterator[TestClient]:
    own_tally.state.trickle_seconds = 0.05
    with open_client(bad_day_settings(database_url, own_tally)) as client:
        yield client


def ask(client: TestClient, ledger: str = SHARMA, **params: str) -> tuple[int, dict, float]:
    started = time.perf_counter()
    response = client.get("/tally/closing-balance", params={"ledger": ledger, **params})
    return response.status_code, response.json(), time.perf_counter() - started


def expire_the_cache(clock: Clock) -> None:
    clock.advance(hours=3)  # CACHE_TTL_MINUTES is 120


class TestWithACachedBalance:
    @pytest.mark.parametrize("fault", FAULTS)
    def test_a_bad_tally_gets_the_stale_answer_within_the_deadline(self, app: TestClient, own_tally: TallyServer,
                                                                   clock: Clock, fault: str) -> None:
        assert ask(app)[1]["source"] == "live"
        expire_the_cache(clock)
        own_tally.state.set_fault(fault)

        status, body, took = ask(app)

        assert (status, body["source"], body["closing_balance"]) == (200, "stale_cache", "125000.00")
        assert body["stale_reason"].startswith("Tally")
        assert body["age_seconds"] >= 3 * 3600
        assert took < DEADLINE + 2

    @pytest.mark.parametrize("fault", FAULTS)
    def test_a_second_ask_right_after_does_not_touch_tally(self, app: TestClient, own_tally: TallyServer,
                                                          clock: Clock, fault: str) -> None:
        ask(app)
        expire_the_cache(clock)
        own_tally.state.set_fault(fault)
        ask(app)
        requests_before = own_tally.state.requests

        status, body, took = ask(app)

        assert (status, body["source"]) == (200, "stale_cache")
        assert "seen 0 s ago" in body["stale_reason"]
        assert own_tally.state.requests == requests_before
        assert took < 1

    def test_after_the_breaker_window_one_background_read_brings_fresh_balances(
            self, app: TestClient, own_tally: TallyServer, clock: Clock) -> None:
        ask(app)
        expire_the_cache(clock)
        own_tally.state.set_fault("http500")
        ask(app)
        own_tally.state.set_fault(None)
        clock.advance(seconds=31)

        status, body, _ = ask(app)
        retried = wait_until(lambda: app.app.state.tally.breaker.failing is False)

        assert (status, body["source"]) == (200, "stale_cache")  # answered at once, from the cache
        assert retried and ask(app)[1]["source"] == "cache"

    def test_the_od_report_uses_the_stale_balances_and_says_why(self, app: TestClient, own_tally: TallyServer,
                                                                 clock: Clock, make_xlsx: MakeXlsx) -> None:
        set_ledgers(own_tally, (SHARMA, "-1000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", SHARMA))
        assert report(app)["rows"][0]["balance_source"] == "live"
        expire_the_cache(clock)
        own_tally.state.set_fault("hang")

        started = time.perf_counter()
        body = report(app)

        assert time.perf_counter() - started < DEADLINE + 2
        assert body["rows"][0]["closing_balance"] == "1000.00"
        assert body["rows"][0]["balance_source"] == "stale_cache"
        assert any("did not answer within 0.5 s" in warning for warning in body["warnings"])


class TestWithNothingCached:
    @pytest.mark.parametrize(("fault", "status", "words"), [
        ("hang", 503, "did not answer within 1.5 s"), ("trickle", 503, "did not answer within 1.5 s"),
        ("cut", 503, "cut short"), ("http500", 502, "HTTP 500"), ("html", 502, "HTML page")])
    def test_a_bad_tally_is_an_error_naming_what_it_did(self, app: TestClient, own_tally: TallyServer, fault: str,
                                                       status: int, words: str) -> None:
        own_tally.state.set_fault(fault)

        code, body, took = ask(app)

        assert code == status and words in body["detail"]
        assert took < PATIENT + 2

    def test_the_od_report_lists_retailers_as_balance_unavailable_not_unmatched(
            self, app: TestClient, own_tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        import_rows(app, make_xlsx, shop(1, "R1", SHARMA), shop(2, "R2", "Verma Telecom"))
        own_tally.state.set_fault("http500")

        body = report(app)

        assert body["unmatched_retailers"] == []
        assert [(u["retailer_codes"], u["ledger_name"]) for u in body["balance_unavailable"]] == [
            (["R1"], None), (["R2"], None)]
        assert all(u["reason"] == "Tally could not be read and nothing is cached: Tally answered HTTP 500, not an "
                                  "XML answer." for u in body["balance_unavailable"])

    def test_the_od_report_answers_at_once_when_enough_callers_already_wait(
            self, database_url: str, own_tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        with open_client(bad_day_settings(database_url, own_tally, tally_waiters=1,
                                          tally_read_timeout_seconds=3)) as client:
            import_rows(client, make_xlsx, shop(1, "R1", SHARMA))
            own_tally.state.set_fault("hang")
            waiting = threading.Thread(target=lambda: client.get("/tally/closing-balance", params={"ledger": SHARMA}))
            waiting.start()
            wait_until(lambda: own_tally.state.requests == 1)

            started = time.perf_counter()
            body = report(client)
            took = time.perf_counter() - started
            waiting.join(10)

        assert took < 1
        assert body["balance_unavailable"][0]["reason"].endswith("Tally is busy answering other requests of this "
                                                                 "service; try again in a moment.")


def _stale_cache_and_the_tally_lock_held_elsewhere(app: TestClient, clock: Clock) -> ProcessLock:
    """A cached balance gone stale, and Tally's lock held as another worker process would hold it."""
    ask(app)
    expire_the_cache(clock)
    other_process = ProcessLock(app.app.state.engine, tally_cache.TALLY_LOCK)
    assert other_process.acquire(blocking=False)
    return other_process


class TestOneRequestAtATimeAcrossProcesses:
    def test_a_read_waits_for_another_process_holding_the_tally_lock_then_falls_back(
            self, app: TestClient, own_tally: TallyServer, clock: Clock) -> None:
        other_process = _stale_cache_and_the_tally_lock_held_elsewhere(app, clock)
        try:
            status, body, took = ask(app)
        finally:
            other_process.release()

        assert (status, body["source"], own_tally.state.requests) == (200, "stale_cache", 1)
        assert "Another request has been waiting on Tally" in body["stale_reason"]

    def test_a_refresh_another_process_just_made_is_used_instead_of_asking_again(
            self, app: TestClient, own_tally: TallyServer, clock: Clock) -> None:
        other_process = _stale_cache_and_the_tally_lock_held_elsewhere(app, clock)
        answers: list[tuple[int, dict, float]] = []
        asking = threading.Thread(target=lambda: answers.append(ask(app)))
        asking.start()
        time.sleep(0.1)  # the ask is now waiting for the lock; the other process refreshes meanwhile
        with app.app.state.sessionmaker() as session:
            for row in session.query(TallyLedgerCache):
                row.fetched_at = clock.now()
            session.commit()
        other_process.release()
        asking.join(5)

        assert answers[0][1]["source"] == "live"
        assert own_tally.state.requests == 1


class TestHealth:
    def test_health_never_calls_tally(self, app: TestClient, own_tally: TallyServer) -> None:
        bodies = [app.get("/health").json() for _ in range(300)]

        assert (own_tally.state.requests, own_tally.state.gets) == (0, 0)
        assert bodies[0]["tally"] == "unknown"

    def test_health_reports_what_the_service_last_saw(self, app: TestClient, own_tally: TallyServer,
                                                      clock: Clock) -> None:
        ask(app)
        seen_up = app.get("/health").json()
        expire_the_cache(clock)
        own_tally.state.set_fault("http500")
        ask(app)

        seen_down = app.get("/health").json()

        assert (seen_up["status"], seen_up["tally"]) == ("ok", "reachable")
        assert (seen_down["status"], seen_down["tally"]) == ("ok", "unreachable")
        assert seen_down["tally_seen_at"] > seen_up["tally_seen_at"]


class TestRefreshNeedsAccounts:
    @pytest.mark.parametrize(("path", "params"), [("/tally/closing-balance", {"ledger": SHARMA}),
                                                  ("/tally/ledgers", {}), ("/reports/negative", {}),
                                                  ("/reports/negative/R1", {})])
    def test_a_viewer_asking_for_refresh_is_403_and_tally_is_not_asked(self, database_url: str, own_tally: TallyServer,
                                                                      path: str, params: dict[str, str]) -> None:
        with open_client(bad_day_settings(database_url, own_tally), role="viewer") as viewer:
            response = viewer.get(path, params={**params, "refresh": "true"})

        assert response.status_code == 403
        assert response.json()["detail"].startswith("refresh=true reads Tally now and needs the accounts role; the "
                                                    "key 'test-viewer-")
        assert own_tally.state.requests == 0

    def test_an_accounts_refresh_is_audited(self, database_url: str, own_tally: TallyServer) -> None:
        with open_client(bad_day_settings(database_url, own_tally), role="accounts") as accounts:
            accounts.get("/tally/ledgers", params={"refresh": "true"})
            with accounts.app.state.sessionmaker() as session:
                from models import AuditEntry

                entries = [(e.action, e.target, e.role) for e in session.query(AuditEntry)]

        assert ("tally.refresh", "group Sundry Debtors", "accounts") in entries


class TestGroupNames:
    def test_another_spelling_of_the_group_cannot_empty_the_od_report(self, app: TestClient, own_tally: TallyServer,
                                                                       clock: Clock, make_xlsx: MakeXlsx) -> None:
        set_ledgers(own_tally, (SHARMA, "-1000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", SHARMA))
        report(app)

        relabelled = app.get("/tally/ledgers", params={"group": "sundry  DEBTORS", "refresh": "true"}).json()
        expire_the_cache(clock)
        own_tally.stop()
        body = report(app)

        assert (relabelled["group"], relabelled["total"]) == ("Sundry Debtors", 1)
        assert [row["retailer_codes"] for row in body["rows"]] == [["R1"]]
        assert body["unmatched_retailers"] == []

    def test_a_cache_written_with_another_spelling_is_folded_at_start_up(self, database_url: str,
                                                                         own_tally: TallyServer) -> None:
        with open_client(bad_day_settings(database_url, own_tally)) as client:
            ask(client)
            with client.app.state.sessionmaker() as session:
                session.query(TallyLedgerCache).update({"group_name": "sundry debtors  "})
                session.commit()
        own_tally.state.set_fault("http500")

        with open_client(bad_day_settings(database_url, own_tally)) as restarted:
            body = restarted.get("/tally/ledgers").json()

        assert (body["group"], body["total"], body["source"]) == ("Sundry Debtors", 5, "cache")


class TestMappingWhileTallyIsDown:
    def test_unknown_names_are_503_naming_tally_after_one_request(self, app: TestClient, own_tally: TallyServer,
                                                                  make_xlsx: MakeXlsx) -> None:
        import_rows(app, make_xlsx, shop(1, "R1", "A"), shop(2, "R2", "B"), shop(3, "R3", "C"))
        own_tally.state.set_fault("http500")
        requests_before = own_tally.state.requests

        response = app.post("/admin/ledger-mapping", json={"mappings": [
            {"retailer_code": code, "ledger_name": f"New Ledger {code}"} for code in ("R1", "R2", "R3")]})

        assert response.status_code == 503
        assert response.json()["detail"].startswith(
            "Tally could not be read, so 3 ledger name(s) could not be checked ('New Ledger R1', 'New Ledger R2', "
            "'New Ledger R3'); nothing was saved. Tally said: Tally answered HTTP 500")
        assert own_tally.state.requests == requests_before + 1

    def test_a_ledger_made_in_tally_since_the_last_read_is_found_with_one_read(
            self, app: TestClient, own_tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        import_rows(app, make_xlsx, shop(1, "R1", "A"), shop(2, "R2", "B"))
        own_tally.state.companies[0].ledgers.append(Ledger("Brand New Mobiles", "Sundry Debtors", "-1.00"))
        requests_before = own_tally.state.requests

        response = app.post("/admin/ledger-mapping", json={"mappings": [
            {"retailer_code": "R1", "ledger_name": "brand new mobiles"},
            {"retailer_code": "R2", "ledger_name": "BRAND NEW MOBILES"}]})

        assert response.json() == {"updated": 2, "cleared": 0, "unchanged": 0}
        assert own_tally.state.requests == requests_before + 1


class TestLargeGroups:
    def test_a_group_of_forty_thousand_ledgers_is_stored_and_pruned(self, database_url: str,
                                                                    own_tally: TallyServer) -> None:
        # More ledgers than SQLite takes parameters in one statement (32,766).
        ledgers = [Ledger(f"Retailer {n:05d}", "Sundry Debtors", f"-{n}.00") for n in range(40_000)]
        own_tally.state.companies[0].ledgers = ledgers

        with open_client(bad_day_settings(database_url, own_tally, tally_read_timeout_seconds=60)) as client:
            first = client.post("/admin/tally/refresh").json()
            own_tally.state.companies[0].ledgers = ledgers[:39_000]
            second = client.post("/admin/tally/refresh").json()
            listed = client.get("/tally/ledgers", params={"limit": 1}).json()

        assert (first["ledgers"], second["ledgers"], listed["total"]) == (40_000, 39_000, 39_000)

    def test_a_failure_to_store_the_answer_serves_the_stale_cache(self, app: TestClient, own_tally: TallyServer,
                                                                 clock: Clock) -> None:
        ask(app)
        expire_the_cache(clock)
        own_tally.state.companies[0].ledgers.append(Ledger("Another Shop", "Sundry Debtors", "-1.00"))
        with failing_inserts(app.app.state.engine, "tally_ledger_cache"):
            status, body, _ = ask(app)

        assert (status, body["source"]) == (200, "stale_cache")
        assert body["stale_reason"].startswith("Tally answered, but its answer could not be saved in the cache")
        assert app.get("/health").json()["tally"] == "reachable"


def wait_until(condition: Any, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_callers_with_nothing_cached_beyond_the_waiting_slots_get_a_503_within_a_second(
        database_url: str, own_tally: TallyServer) -> None:
    with open_client(bad_day_settings(database_url, own_tally, tally_waiters=1, tally_read_timeout_seconds=3)) as client:
        own_tally.state.set_fault("hang")
        waiting = threading.Thread(target=lambda: client.get("/tally/closing-balance", params={"ledger": SHARMA}))
        waiting.start()
        wait_until(lambda: own_tally.state.requests == 1)

        code, body, took = ask(client, "Verma Telecom")
        waiting.join(10)

    assert code == 503 and body["detail"].startswith("Tally is slow to answer and enough requests of this service")
    assert took < 2
