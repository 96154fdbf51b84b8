"""Tally balances served from `tally_ledger_cache`, refreshed from Tally when stale.

- Fresh entry (younger than CACHE_TTL_MINUTES): served from the cache.
- Stale or missing: one live read of the whole group refreshes every ledger in it; a ledger
  outside the group is read on its own.
- Tally down, hanging, cut short or refusing: the last cached value however old, `stale_cache`
  with its age and the reason; with nothing cached, the Tally error (503 unreachable, 502 refused).
- Deadlines: with a cached value a caller waits at most TALLY_DEADLINE_SECONDS for the whole
  answer, with nothing cached at most TALLY_READ_TIMEOUT_SECONDS.
- Breaker: a failure is remembered for TALLY_BREAKER_SECONDS (nobody asks Tally); after it, while
  still failing, callers with a cache get it at once and one read retries in the background.
- Reads run on a pool of their own (`kit.flights`), shared by callers needing the same read; at
  most TALLY_WAITERS callers per process wait on Tally; one request at a time reaches Tally
  across all processes sharing the database (`kit.process_lock`).
- `group_name` holds the normalised group name, so no caller's spelling can relabel the cache.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from access import audit
import errors
from access.actor import Actor, role_allows
from database import begin_write
from kit.flights import Breaker, FlightBusy, Flights, FlightTimeout
from kit.process_lock import ProcessLock
from models import TallyLedgerCache, utcnow
from kit.paging import PageParams, paginate
from schemas import BalanceRead, CacheEntryRead, LedgerPage, LedgerRead, RefreshResult, TallyStatus
from tally_client import LedgerBalance, TallyClient, check_name, normalise_name

log = logging.getLogger("dist.tally")
T, R = TypeVar("T"), TypeVar("R")
TALLY_LOCK = "tally"  # one request at a time to Tally, across every process (§1 of tally-xml.md)
POOL_THREADS = 2  # Tally answers one request at a time: one at work, one queued or retrying
IN_CHUNK = 5000  # keys per IN (...): under SQLite's and PostgreSQL's parameter limits
GRACE_SECONDS = 0.25  # callers outwait the read's deadline a little: they get its own outcome


class CacheNotStored(errors.TallyUnavailable):
    """Tally answered, but its answer could not be written to the cache."""


@dataclass
class TallyService:
    """The cache's state that outlives a request: the client, the pool, the breaker, the counters."""

    client: TallyClient
    sessions: sessionmaker[Session]
    engine: Engine
    ttl: timedelta
    debtors_group: str
    deadline: float  # seconds, for callers that have a cached answer to fall back on
    patient_deadline: float  # seconds, for callers with nothing cached
    breaker: Breaker
    flights: Flights
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("hits", "misses", "stale_serves",
        "tally_requests", "tally_errors", "names_lost", "breaker_skips", "busy_skips"), 0))
    _counter_lock: threading.Lock = field(default_factory=threading.Lock)
    # Called in the same transaction as a group's balances: (session, group key, balances, fetched_at).
    on_group_stored: list[Callable[[Session, str, list[LedgerBalance], datetime], None]] = field(default_factory=list)

    @property
    def debtors_key(self) -> str:
        return normalise_name(self.debtors_group)

    def group_label(self, key: str | None) -> str | None:
        """How a stored (normalised) group name is shown: the configured spelling for the debtors group."""
        return self.debtors_group if key == self.debtors_key else key

    def count(self, name: str, by: int = 1) -> None:
        with self._counter_lock:
            self.counters[name] += by

    def is_fresh(self, fetched_at: datetime, now: datetime | None = None) -> bool:
        return (now or utcnow()) - fetched_at < self.ttl

    def close(self) -> None:
        self.flights.close()
        self.client.close()


def make_service(*, host: str, company: str, connect_timeout: float, read_timeout: float, ttl_minutes: float,
                 debtors_group: str, sessions: sessionmaker[Session], engine: Engine, deadline: float = 10.0,
                 breaker_seconds: float = 30.0, waiters: int = 4) -> TallyService:
    client = TallyClient(host, company, connect_timeout=connect_timeout, read_timeout=read_timeout)
    service = TallyService(
        client=client, sessions=sessions, engine=engine, ttl=timedelta(minutes=ttl_minutes),
        debtors_group=debtors_group, deadline=min(deadline, read_timeout), patient_deadline=max(deadline, read_timeout),
        breaker=Breaker(timedelta(seconds=breaker_seconds)),
        flights=Flights(threads=POOL_THREADS, waiters=waiters, name="tally"))
    _normalise_stored_groups(service)
    return service


def _normalise_stored_groups(service: TallyService) -> None:
    """Caches written before group names were normalised hold the caller's spelling: fold it once."""
    with service.sessions() as session:
        names = [name for name in session.scalars(select(TallyLedgerCache.group_name).distinct())
                 if name is not None and name != normalise_name(name)]
        if names:
            session.rollback()
            begin_write(session)
        for name in names:
            session.execute(update(TallyLedgerCache).where(TallyLedgerCache.group_name == name)
                            .values(group_name=normalise_name(name)))
        session.commit()


def observed(service: TallyService) -> tuple[str, datetime | None]:
    """What the service last saw of Tally, without asking it: (reachable | unreachable | unknown, when)."""
    if service.breaker.failing:
        return "unreachable", service.breaker.last_failure_at
    if service.breaker.last_success_at is not None:
        return "reachable", service.breaker.last_success_at
    return "unknown", None


# --- talking to Tally: on the pool, once per flight, one request at a time everywhere -----------


def ask_tally(service: TallyService, key: str, what: str, fetch: Callable[[float], T], keep: Callable[[T], R], *,
               patient: bool, can_skip: bool, precheck: Callable[[], R | None] | None = None) -> R:
    """Run fetch (Tally) then keep (the cache) on the pool, once per `key`, and wait for it.

    `patient`: nothing cached, wait up to the long deadline. `can_skip`: the caller can answer
    without Tally, so it neither queues for a waiting slot nor waits on a Tally known down.
    """
    now = utcnow()
    if service.breaker.failing:
        if service.breaker.is_open(now):
            service.count("breaker_skips")
            raise service.breaker.remembered(now, f"asked again after {service.breaker.window.total_seconds():g} s")
        if can_skip:  # known down but the window is over: one retry in the background, the cache now
            if not service.flights.running():
                service.flights.start(key, _task(service, what, fetch, keep, precheck, service.deadline))
            service.count("breaker_skips")
            raise service.breaker.remembered(now, "Tally is being asked again in the background")
    seconds = service.patient_deadline if patient else service.deadline
    future = service.flights.start(key, _task(service, what, fetch, keep, precheck, seconds))
    try:
        return service.flights.wait(future, timeout=seconds + GRACE_SECONDS, can_skip=can_skip)
    except FlightBusy:
        service.count("busy_skips")
        if not can_skip:
            raise errors.TallyUnavailable("Tally is slow to answer and enough requests of this service already "
                                          "wait for it; try again in a moment.") from None
        raise errors.TallyUnavailable("Tally is busy answering other requests of this service; "
                                      "try again in a moment.") from None
    except FlightTimeout:
        raise service.client._timed_out(seconds) from None


def _task(service: TallyService, what: str, fetch: Callable[[float], T], keep: Callable[[T], R],
          precheck: Callable[[], R | None] | None, seconds: float) -> Callable[[], R]:
    deadline = time.monotonic() + seconds

    def run() -> R:
        lock = ProcessLock(service.engine, TALLY_LOCK)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not lock.acquire(blocking=False, timeout=remaining):
            raise errors.TallyUnavailable(f"Another request has been waiting on Tally for over {seconds:g} s "
                                          "(Tally answers one at a time); try again in a moment.")
        try:
            if precheck is not None:  # another process may have just done this read: use its result
                done = precheck()
                if done is not None:
                    return done
            service.count("tally_requests")
            started = time.perf_counter()
            try:
                answer = fetch(max(deadline - time.monotonic(), 0.001))
            except errors.AppError as exc:
                service.count("tally_errors")
                service.breaker.failed(exc, utcnow())
                log.warning("tally: %s failed: %s", what, exc.detail)
                raise
            service.breaker.succeeded(utcnow())
            log.info("tally: %s answered in %.0f ms", what, (time.perf_counter() - started) * 1000)
            try:
                return keep(answer)
            except SQLAlchemyError as exc:
                log.exception("tally: the answer to %s could not be cached", what)
                raise CacheNotStored(f"Tally answered, but its answer could not be saved in the cache "
                                     f"({type(exc).__name__}: {str(getattr(exc, 'orig', exc))[:200]}).") from None
        finally:
            lock.release()

    return run


def _usable(service: TallyService, balances: list[LedgerBalance]) -> list[LedgerBalance]:
    kept = [balance for balance in balances if not balance.name_lost]
    if len(kept) < len(balances):
        service.count("names_lost", len(balances) - len(kept))
        log.warning("tally: %d ledger names lost to a UTF-8 round trip; not cached", len(balances) - len(kept))
    return kept


def _store(session: Session, balances: list[LedgerBalance], *, group: str | None, claim: bool,
           fetched_at: datetime) -> None:
    """Upsert balances in bulk; `group` is normalised; `claim`: the read was of the debtors group,
    which owns its ledgers' rows."""
    unique = {balance.key: balance for balance in balances}
    keys = list(unique)
    existing: dict[str, str | None] = {}
    for start in range(0, len(keys), IN_CHUNK):  # one query per 5,000 ledgers, not one per ledger
        found = session.execute(select(TallyLedgerCache.ledger_key, TallyLedgerCache.group_name)
                                .where(TallyLedgerCache.ledger_key.in_(keys[start:start + IN_CHUNK])))
        existing.update((key, group) for key, group in found)
    inserts, updates = [], []
    for key, balance in unique.items():
        values = {"ledger_key": key, "ledger_name": balance.name, "parent": balance.parent,
                  "closing_balance": balance.closing_balance, "is_blank": balance.blank, "fetched_at": fetched_at,
                  "source": "group" if group else "ledger"}
        if key in existing:
            current = existing[key]
            # A sub-group read must not pull a ledger out of the debtors group it also belongs to.
            values["group_name"] = group if group is not None and (claim or current is None) else current
            updates.append(values)
        else:
            values["group_name"] = group
            inserts.append(values)
    if inserts:
        session.execute(insert(TallyLedgerCache), inserts)
    if updates:
        session.execute(update(TallyLedgerCache), updates)


def group_fetched_at(session: Session, group_key: str) -> datetime | None:
    return session.scalar(select(func.min(TallyLedgerCache.fetched_at)).where(TallyLedgerCache.group_name == group_key))


def refresh_group(service: TallyService, *, group: str | None = None, force: bool = False, patient: bool = True,
                  can_skip: bool = False) -> RefreshResult:
    """Read the group from Tally into the cache, once however many ask; a group another caller or
    process refreshed within the TTL (with `force`: since this call asked) is not read again."""
    group = group or service.debtors_group
    key = normalise_name(group)
    asked_at = utcnow()

    def precheck() -> RefreshResult | None:
        with service.sessions() as session:
            fetched = group_fetched_at(session, key)
            if fetched is None or (fetched < asked_at if force else not service.is_fresh(fetched)):
                return None
            ledgers = session.scalar(select(func.count()).where(TallyLedgerCache.group_name == key)) or 0
        return RefreshResult(group=group, ledgers=ledgers, fetched_at=fetched, duration_ms=0)

    started = time.perf_counter()

    def keep(answer: list[LedgerBalance]) -> RefreshResult:
        balances = _usable(service, answer)
        now = utcnow()
        with service.sessions() as session:
            begin_write(session)  # read-then-write: take the write lock first (see database.begin_write)
            _store(session, balances, group=key, fetched_at=now, claim=key == service.debtors_key)
            for hook in service.on_group_stored:  # e.g. the credit terms read with the balances
                hook(session, key, balances, now)
            # Rows of the group this read did not touch (fetched_at < now) are gone from Tally; no
            # list of keys (500,000 would not fit in one statement).
            session.execute(delete(TallyLedgerCache).where(
                TallyLedgerCache.group_name == key, TallyLedgerCache.fetched_at < now))
            session.commit()
        if not balances:
            log.warning("tally: group %r came back empty; check TALLY_COMPANY and TALLY_DEBTORS_GROUP", group)
        return RefreshResult(group=group, ledgers=len(balances), fetched_at=now,
                             duration_ms=int((time.perf_counter() - started) * 1000))

    return ask_tally(service, f"group:{key}{':force' if force else ''}", f"read of group {group!r}",
                      lambda seconds: service.client.group_balances(group, timeout=seconds), keep,
                      patient=patient, can_skip=can_skip, precheck=precheck)


def _refresh_one(service: TallyService, name: str, *, force: bool, patient: bool, can_skip: bool) -> bool:
    """Read one ledger outside the group; False when Tally has no such ledger."""
    key = normalise_name(name)
    asked_at = utcnow()

    def precheck() -> bool | None:
        with service.sessions() as session:
            row = session.get(TallyLedgerCache, key)
            if row is not None and (row.fetched_at >= asked_at if force else service.is_fresh(row.fetched_at)):
                return True
        return None

    def keep(balance: LedgerBalance | None) -> bool:
        if balance is None or balance.name_lost:
            return False
        with service.sessions() as session:
            begin_write(session)
            _store(session, [balance], group=None, claim=False, fetched_at=utcnow())
            session.commit()
        return True

    return ask_tally(service, f"ledger:{key}{':force' if force else ''}", f"read of ledger {name!r}",
                      lambda seconds: service.client.ledger_balance(name, timeout=seconds), keep,
                      patient=patient, can_skip=can_skip, precheck=precheck)


def authorise_refresh(session: Session, actor: "Actor | None", *, what: str) -> None:
    """`refresh=true` makes Tally read now, for everyone: the accounts role or above, and audited."""
    if actor is None or not role_allows(actor.role, "accounts"):
        who = f"the key {actor.name!r} has the {actor.role} role" if actor else "no key was given"
        raise errors.Forbidden(f"refresh=true reads Tally now and needs the accounts role; {who}. "
                               "Leave refresh out to get the cached balances.",
                               [errors.item(["query", "refresh"], "needs the accounts role", "forbidden")])
    session.rollback()
    begin_write(session)
    audit.record(session, actor, "tally.refresh", target=what[:255], detail={"via": "refresh=true"})
    session.commit()


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


def get_balance(service: TallyService, session: Session, *, ledger: str, refresh: bool = False,
                actor: "Actor | None" = None) -> BalanceRead:
    """One ledger's closing balance (positive = owes us); `refresh` needs an accounts actor."""
    name = check_name(ledger, field=["query", "ledger"])
    if not name:
        raise errors.InvalidInput("Give the ledger name, e.g. ?ledger=Sharma Mobile Point.",
                                  [errors.item(["query", "ledger"], "must not be empty")])
    if refresh:
        authorise_refresh(session, actor, what=f"ledger {name}")
    key = normalise_name(name)
    row = session.get(TallyLedgerCache, key)
    now = utcnow()
    if row is not None and not refresh and service.is_fresh(row.fetched_at, now):
        service.count("hits")
        return BalanceRead(**_read(row, "cache", now))
    service.count("misses")
    cached = row is not None
    # Give the connection back while Tally is asked: twenty waiting callers must not hold twenty
    # connections while the one doing the refresh needs another.
    outside_group = row is not None and row.group_name is None  # known to sit outside: skip the group read
    session.rollback()
    try:
        if not outside_group:
            refresh_group(service, force=refresh, patient=not cached, can_skip=cached)
            session.rollback()  # end the read snapshot: see what the refresh committed
            row = session.get(TallyLedgerCache, key)
        if row is None or (row.fetched_at < now if refresh else not service.is_fresh(row.fetched_at)):
            if not _refresh_one(service, name, force=refresh, patient=not cached, can_skip=cached):
                raise _not_found(service, name)
            session.rollback()
            row = session.get(TallyLedgerCache, key)
    except (errors.TallyUnavailable, errors.TallyError) as exc:
        session.rollback()
        row = session.get(TallyLedgerCache, key)
        if row is None:
            raise
        service.count("stale_serves")
        log.warning("tally: serving a stale balance for %r (%d s old): %s", row.ledger_name,
                    (utcnow() - row.fetched_at).total_seconds(), exc.detail)
        return BalanceRead(**_read(row, "stale_cache", utcnow()), stale_reason=exc.detail)
    assert row is not None
    return BalanceRead(**_read(row, "live", utcnow()))


def list_ledgers(service: TallyService, session: Session, *, page: PageParams, group: str | None = None,
                 refresh: bool = False, search: str | None = None, actor: "Actor | None" = None) -> LedgerPage:
    """Ledgers of a group with balances (names containing `search`, any case); refreshed first when stale."""
    group = check_name(group or service.debtors_group, field=["query", "group"])
    key = normalise_name(group)
    if refresh:
        authorise_refresh(session, actor, what=f"group {group}")
    shown = service.group_label(key) or group
    fetched = group_fetched_at(session, key)
    source, warning = "cache", None
    if refresh or fetched is None or not service.is_fresh(fetched):
        service.count("misses")
        session.rollback()  # no connection held while Tally answers
        try:
            refresh_group(service, group=shown, force=refresh, patient=fetched is None, can_skip=fetched is not None)
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
    stmt = select(TallyLedgerCache).where(TallyLedgerCache.group_name == key).order_by(TallyLedgerCache.ledger_key)
    if search and normalise_name(search):
        stmt = stmt.where(TallyLedgerCache.ledger_key.contains(normalise_name(search), autoescape=True))
    result = paginate(session, stmt, page, lambda row: LedgerRead(
        **_read(row, source, now), parent=row.parent, group_name=service.group_label(row.group_name)))
    if result.total == 0 and warning is None and not search:
        company = service.client.company or "the company open in Tally"
        warning = f"Tally has no ledgers under the group {group!r} in {company}; check the group's exact name."
    return LedgerPage(**result.model_dump(), group=shown, source=source, warning=warning)


@dataclass(frozen=True, slots=True)
class CachedBalance:
    ledger_key: str
    ledger_name: str
    group_name: str | None  # normalised: compare with TallyService.debtors_key
    closing_balance: Decimal
    fetched_at: datetime


def group_balances(service: TallyService, session: Session, *, refresh: bool = False, actor: "Actor | None" = None
                   ) -> tuple[dict[str, CachedBalance], str, str | None]:
    """Every cached ledger (refreshing the debtors group first when stale), for reports.

    Returns (balances by normalised name, source of the group's balances, why they are stale).
    Never raises for Tally: a report can always answer, with what is cached.
    """
    if refresh:
        authorise_refresh(session, actor, what=f"group {service.debtors_group}")
    fetched = group_fetched_at(session, service.debtors_key)
    source, problem = "cache", None
    if refresh or fetched is None or not service.is_fresh(fetched):
        session.rollback()  # no connection held while Tally answers
        try:
            refresh_group(service, force=refresh, patient=fetched is None, can_skip=True)
            source = "live"
        except (errors.TallyUnavailable, errors.TallyError) as exc:
            source, problem = "stale_cache", exc.detail
        session.rollback()
    table = TallyLedgerCache
    rows = session.execute(select(table.ledger_key, table.ledger_name, table.group_name, table.closing_balance, table.fetched_at))
    return {row[0]: CachedBalance(*row) for row in rows}, source, problem


def refresh_now(service: TallyService, session: Session, *, actor: "Actor") -> RefreshResult:
    """Read the debtors group now, and record who asked."""
    result = refresh_group(service, force=True)
    audit.record(session, actor, "tally.refresh", target=result.group, detail={"ledgers": result.ledgers})
    session.commit()
    return result


def cache_entries(service: TallyService, session: Session, *, page: PageParams) -> Any:
    now = utcnow()
    stmt = select(TallyLedgerCache).order_by(TallyLedgerCache.ledger_key)
    return paginate(session, stmt, page, lambda row: CacheEntryRead(
        ledger_key=row.ledger_key, ledger=row.ledger_name, parent=row.parent,
        group_name=service.group_label(row.group_name), closing_balance=row.closing_balance, blank=row.is_blank,
        fetched_at=row.fetched_at, age_seconds=max(int((now - row.fetched_at).total_seconds()), 0),
        fresh=service.is_fresh(row.fetched_at, now), read_as=row.source))


def _reachability(service: TallyService) -> str:
    """For a signed-in caller: what the service saw, or a quick probe when it has seen nothing wrong."""
    if service.breaker.failing:
        return "unreachable"
    lock = ProcessLock(service.engine, TALLY_LOCK)
    if service.flights.running() or not lock.acquire(blocking=False):
        return "busy"
    try:
        seen = service.client.probe(timeout=min(2.0, service.deadline))
    finally:
        lock.release()
    if seen != "busy":
        service.breaker.succeeded(utcnow()) if seen == "reachable" else service.breaker.failed(
            service.client._unreachable(), utcnow())
    return seen


def status(service: TallyService, session: Session) -> TallyStatus:
    entries, oldest = session.execute(select(func.count(), func.min(TallyLedgerCache.fetched_at))).one()
    now, seen = utcnow(), service.breaker
    session.rollback()  # no connection held during the probe
    return TallyStatus(
        host=service.client.base_url, company=service.client.company, debtors_group=service.debtors_group,
        reachable=_reachability(service), last_success_at=seen.last_success_at, last_error_at=seen.last_failure_at,
        last_error=seen.last_failure.detail if seen.last_failure else None, cache_entries=entries,
        oldest_entry_age_seconds=int((now - oldest).total_seconds()) if oldest else None,
        ttl_minutes=service.ttl.total_seconds() / 60, counters=dict(service.counters))
