"""Tally balances served from `tally_ledger_cache`, refreshed from Tally when stale.

- Fresh entry (younger than CACHE_TTL_MINUTES): served from the cache.
- Stale or missing: one live read of the whole group refreshes every ledger in it; a ledger
  outside the group is read on its own.
- Tally down, hanging or refusing: the last cached value however old, marked `stale_cache` with
  its age; with nothing cached, the Tally error itself (503 unreachable, 502 refused).
- Single flight: Tally answers one request at a time, so callers that need the same refresh at
  the same moment share one Tally request.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from access import audit
import errors
from database import begin_write
from models import TallyLedgerCache, utcnow
from kit.paging import PageParams, paginate
from schemas import (
    BalanceRead,
    CacheEntryRead,
    LedgerPage,
    LedgerRead,
    RefreshResult,
    TallyCounters,
    TallyStatus,
)
from tally_client import LedgerBalance, TallyClient, check_name, normalise_name

if TYPE_CHECKING:
    from access.actor import Actor

log = logging.getLogger("dist.tally")
T = TypeVar("T")


class SingleFlight:
    """Run `fn` once per key at a time; callers arriving meanwhile wait and share its outcome."""

    @dataclass
    class _Call:
        done: threading.Event = field(default_factory=threading.Event)
        result: Any = None
        error: BaseException | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, SingleFlight._Call] = {}

    def do(self, key: str, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = SingleFlight._Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.result  # type: ignore[no-any-return]
        try:
            call.result = fn()
            return call.result  # type: ignore[no-any-return]
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()


@dataclass
class TallyService:
    """The cache's state that outlives a request: the client, the flights, the counters."""

    client: TallyClient
    sessions: sessionmaker[Session]
    ttl: timedelta
    debtors_group: str
    flights: SingleFlight = field(default_factory=SingleFlight)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("hits", "misses", "stale_serves", "tally_requests", "tally_errors", "names_lost"), 0))
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    _counter_lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, by: int = 1) -> None:
        with self._counter_lock:
            self.counters[name] += by

    def is_fresh(self, fetched_at: datetime, now: datetime | None = None) -> bool:
        return (now or utcnow()) - fetched_at < self.ttl

    def close(self) -> None:
        self.client.close()


def make_service(*, host: str, company: str, connect_timeout: float, read_timeout: float, ttl_minutes: float,
                 debtors_group: str, sessions: sessionmaker[Session]) -> TallyService:
    client = TallyClient(host, company, connect_timeout=connect_timeout, read_timeout=read_timeout)
    return TallyService(client=client, sessions=sessions, ttl=timedelta(minutes=ttl_minutes), debtors_group=debtors_group)


# --- talking to Tally, once per flight ----------------------------------------------------------


def _ask_tally(service: TallyService, what: str, call: Callable[[], T]) -> T:
    service.count("tally_requests")
    started = time.perf_counter()
    try:
        result = call()
    except errors.AppError as exc:
        service.count("tally_errors")
        service.last_error, service.last_error_at = exc.detail, utcnow()
        log.warning("tally: %s failed: %s", what, exc.detail)
        raise
    service.last_success_at = utcnow()
    log.info("tally: %s answered in %.0f ms", what, (time.perf_counter() - started) * 1000)
    return result


def _usable(service: TallyService, balances: list[LedgerBalance]) -> list[LedgerBalance]:
    lost = [balance for balance in balances if balance.name_lost]
    if lost:
        service.count("names_lost", len(lost))
        log.warning("tally: %d ledger names came back as '???' (a UTF-8 round trip lost them); not cached", len(lost))
    return [balance for balance in balances if not balance.name_lost]


def _store(session: Session, balances: list[LedgerBalance], *, group: str | None, claim: bool,
           fetched_at: datetime) -> None:
    """Upsert balances; `claim`: the read was of the debtors group, which owns its ledgers' rows."""
    keys = [balance.key for balance in balances]
    existing: dict[str, TallyLedgerCache] = {}
    for start in range(0, len(keys), 5000):  # one query per 5,000 ledgers, not one per ledger
        existing.update((row.ledger_key, row) for row in session.scalars(
            select(TallyLedgerCache).where(TallyLedgerCache.ledger_key.in_(keys[start:start + 5000]))))
    for balance in balances:
        row = existing.get(balance.key)
        if row is None:
            row = TallyLedgerCache(ledger_key=balance.key)
            session.add(row)
        row.ledger_name, row.parent = balance.name, balance.parent
        row.closing_balance, row.is_blank = balance.closing_balance, balance.blank
        row.fetched_at, row.source = fetched_at, "group" if group else "ledger"
        # A sub-group read must not pull a ledger out of the debtors group it also belongs to.
        if group is not None and (claim or row.group_name is None):
            row.group_name = group


def _group_fetched_at(session: Session, group: str) -> datetime | None:
    return session.scalar(select(func.min(TallyLedgerCache.fetched_at)).where(TallyLedgerCache.group_name == group))


def refresh_group(service: TallyService, *, group: str | None = None, force: bool = False) -> RefreshResult | None:
    """Read the whole group from Tally into the cache (once, however many callers ask at once).

    Returns None when another caller refreshed it a moment ago and `force` is off.
    """
    group = group or service.debtors_group

    def refresh() -> RefreshResult | None:
        with service.sessions() as session:
            fetched = _group_fetched_at(session, group)
            if not force and fetched is not None and service.is_fresh(fetched):
                return None
        started = time.perf_counter()
        balances = _usable(service, _ask_tally(service, f"read of group {group!r}",
                                               lambda: service.client.group_balances(group)))
        now = utcnow()
        with service.sessions() as session:
            begin_write(session)  # read-then-write: take the write lock first (see database.begin_write)
            _store(session, balances, group=group, fetched_at=now,
                   claim=normalise_name(group) == normalise_name(service.debtors_group))
            # Ledgers Tally no longer lists under the group are gone from it: drop them.
            keys = {balance.key for balance in balances}
            session.execute(delete(TallyLedgerCache).where(
                TallyLedgerCache.group_name == group, TallyLedgerCache.ledger_key.not_in(keys)))
            session.commit()
        if not balances:
            log.warning("tally: group %r came back empty; check TALLY_COMPANY and TALLY_DEBTORS_GROUP", group)
        return RefreshResult(group=group, ledgers=len(balances), fetched_at=now,
                             duration_ms=int((time.perf_counter() - started) * 1000))

    return service.flights.do(f"group:{normalise_name(group)}{':force' if force else ''}", refresh)


def _refresh_one(service: TallyService, name: str) -> bool:
    """Read one ledger outside the group; False when Tally has no such ledger."""

    def refresh() -> bool:
        balance = _ask_tally(service, f"read of ledger {name!r}", lambda: service.client.ledger_balance(name))
        if balance is None or balance.name_lost:
            return False
        with service.sessions() as session:
            begin_write(session)
            _store(session, [balance], group=None, claim=False, fetched_at=utcnow())
            session.commit()
        return True

    return service.flights.do(f"ledger:{normalise_name(name)}", refresh)


# --- what callers ask ---------------------------------------------------------------------------


def _read(row: TallyLedgerCache, source: str, now: datetime) -> dict[str, Any]:
    balance = row.closing_balance
    return {"ledger": row.ledger_name, "closing_balance": balance,
            "dr_cr": "Dr" if balance > 0 else ("Cr" if balance < 0 else None),
            "blank": row.is_blank, "source": source, "fetched_at": row.fetched_at,
            "age_seconds": max(int((now - row.fetched_at).total_seconds()), 0)}


def _not_found(service: TallyService, name: str) -> errors.NotFound:
    company = service.client.company or "the company open in Tally"
    return errors.NotFound(f"Tally has no ledger named {name!r} in {company}; check the spelling, or TALLY_COMPANY "
                           "if no ledger is found at all.")


def get_balance(service: TallyService, session: Session, *, ledger: str, refresh: bool = False) -> BalanceRead:
    """One ledger's closing balance (positive = owes us)."""
    name = check_name(ledger, field=["query", "ledger"])
    if not name:
        raise errors.InvalidInput("Give the ledger name, e.g. ?ledger=Sharma Mobile Point.",
                                  [errors.item(["query", "ledger"], "must not be empty")])
    key = normalise_name(name)
    row = session.get(TallyLedgerCache, key)
    now = utcnow()
    if row is not None and not refresh and service.is_fresh(row.fetched_at, now):
        service.count("hits")
        return BalanceRead(**_read(row, "cache", now))
    service.count("misses")
    started = utcnow()
    # Give the connection back while Tally is asked: twenty waiting callers must not hold twenty
    # connections while the one doing the refresh needs another.
    outside_group = row is not None and row.group_name is None  # known to sit outside: skip the group read
    session.rollback()
    try:
        if not outside_group:
            refresh_group(service, force=refresh)
            session.rollback()  # end the read snapshot: see what the refresh committed
            row = session.get(TallyLedgerCache, key)
        if row is None or (row.fetched_at < started if refresh else not service.is_fresh(row.fetched_at)):
            if not _refresh_one(service, name):
                raise _not_found(service, name)
            session.rollback()
            row = session.get(TallyLedgerCache, key)
    except (errors.TallyUnavailable, errors.TallyError):
        session.rollback()
        row = session.get(TallyLedgerCache, key)
        if row is None:
            raise
        service.count("stale_serves")
        log.warning("tally: serving a stale balance for %r (%d s old) because Tally failed", row.ledger_name,
                    (utcnow() - row.fetched_at).total_seconds())
        return BalanceRead(**_read(row, "stale_cache", utcnow()))
    assert row is not None
    return BalanceRead(**_read(row, "live", utcnow()))


def list_ledgers(service: TallyService, session: Session, *, page: PageParams, group: str | None = None,
                 refresh: bool = False, search: str | None = None) -> LedgerPage:
    """Ledgers of a group with balances (names containing `search`, any case); refreshed first when stale."""
    group = check_name(group or service.debtors_group, field=["query", "group"])
    fetched = _group_fetched_at(session, group)
    source, warning = "cache", None
    if refresh or fetched is None or not service.is_fresh(fetched):
        service.count("misses")
        session.rollback()  # no connection held while Tally answers
        try:
            refresh_group(service, group=group, force=refresh)
            source = "live"
        except (errors.TallyUnavailable, errors.TallyError) as exc:
            if fetched is None:
                raise
            service.count("stale_serves")
            source, warning = "stale_cache", f"Tally could not be read, so these balances are from the cache: {exc.detail}"
        session.rollback()
    else:
        service.count("hits")
    now = utcnow()
    stmt = select(TallyLedgerCache).where(TallyLedgerCache.group_name == group).order_by(TallyLedgerCache.ledger_key)
    if search and normalise_name(search):
        stmt = stmt.where(TallyLedgerCache.ledger_key.contains(normalise_name(search), autoescape=True))
    result = paginate(session, stmt, page, lambda row: LedgerRead(
        **_read(row, source, now), parent=row.parent, group_name=row.group_name))
    if result.total == 0 and warning is None and not search:
        company = service.client.company or "the company open in Tally"
        warning = f"Tally has no ledgers under the group {group!r} in {company}; check the group's exact name."
    return LedgerPage(**result.model_dump(), group=group, source=source, warning=warning)


@dataclass(frozen=True, slots=True)
class CachedBalance:
    ledger_key: str
    ledger_name: str
    group_name: str | None
    closing_balance: Decimal
    fetched_at: datetime


def group_balances(service: TallyService, session: Session, *, refresh: bool = False
                   ) -> tuple[dict[str, CachedBalance], str, str | None]:
    """Every cached ledger (refreshing the debtors group first when stale), for reports.

    Returns (balances by normalised name, source of the group's balances, why they are stale).
    """
    fetched = _group_fetched_at(session, service.debtors_group)
    source, problem = "cache", None
    if refresh or fetched is None or not service.is_fresh(fetched):
        session.rollback()  # no connection held while Tally answers
        try:
            refresh_group(service, force=refresh)
            source = "live"
        except (errors.TallyUnavailable, errors.TallyError) as exc:
            source, problem = "stale_cache", exc.detail
        session.rollback()
    table = TallyLedgerCache
    rows = session.execute(select(table.ledger_key, table.ledger_name, table.group_name, table.closing_balance,
                                  table.fetched_at))
    return {row[0]: CachedBalance(*row) for row in rows}, source, problem


def refresh_now(service: TallyService, session: Session, *, actor: "Actor") -> RefreshResult:
    """Read the debtors group now, and record who asked."""
    result = refresh_group(service, force=True)
    assert result is not None  # a forced refresh always reads
    audit.record(session, actor, "tally.refresh", target=result.group, detail={"ledgers": result.ledgers})
    session.commit()
    return result


def cache_entries(service: TallyService, session: Session, *, page: PageParams) -> Any:
    now = utcnow()
    stmt = select(TallyLedgerCache).order_by(TallyLedgerCache.ledger_key)
    return paginate(session, stmt, page, lambda row: CacheEntryRead(
        ledger_key=row.ledger_key, ledger=row.ledger_name, parent=row.parent, group_name=row.group_name,
        closing_balance=row.closing_balance, blank=row.is_blank, fetched_at=row.fetched_at,
        age_seconds=max(int((now - row.fetched_at).total_seconds()), 0), fresh=service.is_fresh(row.fetched_at, now),
        read_as=row.source))


def status(service: TallyService, session: Session) -> TallyStatus:
    entries, oldest = session.execute(select(func.count(), func.min(TallyLedgerCache.fetched_at))).one()
    now = utcnow()
    return TallyStatus(
        host=service.client.base_url, company=service.client.company, debtors_group=service.debtors_group,
        reachable=service.client.probe(), last_success_at=service.last_success_at, last_error=service.last_error,
        last_error_at=service.last_error_at, cache_entries=entries,
        oldest_entry_age_seconds=int((now - oldest).total_seconds()) if oldest else None,
        ttl_minutes=service.ttl.total_seconds() / 60, counters=TallyCounters(**service.counters))
