"""Open bills and credit terms from Tally, cached in the database like the balances.

- Terms come with the balances: `tally_cache`'s debtors-group read calls `_store_terms` in the
  same transaction, so they cost no request of their own.
- Bills: one streamed read of every open bill under Sundry Debtors (`credit.tally_bills`),
  stored whole, fresh for CACHE_TTL_MINUTES; when Tally fails, the last bills however old,
  `stale_cache` with their age and the reason.
- The read goes through `tally_cache.ask_tally`: once per flight, one request at a time across
  processes, the same breaker. A refresh of the credit book is two requests: group, bills.
"""

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

import errors
from access.actor import Actor
from credit.tally_bills import BillsAnswer, BillsReader, OpenBill, credit_days, due_date, on_account_by_ledger
from database import begin_write
from kit.cells import IST
from kit.periods import CreditPeriod
from models import TallyBillRead, TallyLedgerCache, TallyLedgerTerms, TallyOpenBill, utcnow
from tally_cache import TallyService, ask_tally, authorise_refresh, group_fetched_at, refresh_group
from tally_client import LedgerBalance, LedgerTerms

log = logging.getLogger("dist.credit")
SCOPE = "debtors"
INSERT_CHUNK = 5000  # rows per executemany batch


@dataclass
class BillsService:
    """The bills cache's settings beside the Tally service it shares (client, pool, breaker, lock)."""

    tally: TallyService
    default_credit_days: int = 0
    # The book last loaded, with the reads it came from: 60,000 bills take most of a second to
    # load, and they change only when Tally is read again.
    loaded: "tuple[tuple[Any, ...], CreditBook] | None" = None
    # What the reports derive from one loaded book (its ageing), under keys that name the book's version.
    derived: dict[Any, Any] = field(default_factory=dict)


def make_bills_service(tally: TallyService, *, default_credit_days: int = 0) -> BillsService:
    """The bills cache on `tally`; from now on its debtors-group reads also store the credit terms."""
    tally.on_group_stored.append(lambda session, key, balances, fetched_at: _store_terms(
        tally, session, key, balances, fetched_at))
    return BillsService(tally=tally, default_credit_days=default_credit_days)


def _store_terms(tally: TallyService, session: Session, key: str, balances: list[LedgerBalance],
                 fetched_at: datetime) -> None:
    if key != tally.debtors_key:
        return
    rows = {balance.key: _terms_row(balance, fetched_at) for balance in balances if balance.terms is not None}
    session.execute(delete(TallyLedgerTerms))  # the whole group was read: terms of ledgers gone from it go too
    values = list(rows.values())
    for start in range(0, len(values), INSERT_CHUNK):
        session.execute(insert(TallyLedgerTerms), values[start:start + INSERT_CHUNK])


def _terms_row(balance: LedgerBalance, fetched_at: datetime) -> dict[str, object]:
    terms = balance.terms
    assert terms is not None
    period = terms.credit_period or CreditPeriod()
    return {"ledger_key": balance.key, "credit_limit": terms.credit_limit, "credit_days": period.days,
            "credit_due_date": period.due_date, "is_bill_wise": terms.is_bill_wise,
            "mobile": (terms.mobile or "")[:64] or None, "email": (terms.email or "")[:255] or None,
            "fetched_at": fetched_at}


def today_ist(now: datetime | None = None) -> date:
    """The office's day: the date in IST now (or at `now`)."""
    return (now or utcnow()).astimezone(IST).date()


@dataclass(frozen=True)
class BillsRefresh:
    bills: int
    as_of: date
    fetched_at: datetime
    duration_ms: int


def refresh_bills(bills: BillsService, *, force: bool = False, patient: bool = True,
                  can_skip: bool = False) -> BillsRefresh:
    """Read every open bill from Tally into the cache, once however many ask; bills another caller or
    process read within the TTL (with `force`: since this call asked) are not read again."""
    service = bills.tally
    asked_at = utcnow()
    as_of = today_ist()

    def precheck() -> BillsRefresh | None:
        with service.sessions() as session:
            read = session.get(TallyBillRead, SCOPE)
            if read is None or (read.fetched_at < asked_at if force else not service.is_fresh(read.fetched_at)):
                return None
            return BillsRefresh(bills=read.bill_count, as_of=read.as_of_date, fetched_at=read.fetched_at, duration_ms=0)

    started = time.perf_counter()

    def keep(answer: BillsAnswer) -> BillsRefresh:
        if answer.names_lost:
            service.count("names_lost", answer.names_lost)
            log.warning("credit: %d bills whose party name was lost ('???'); not cached", answer.names_lost)
        now = utcnow()
        rows = [{"ledger_key": bill.ledger_key[:255], "ledger_name": bill.ledger[:255], "bill_ref": bill.ref[:255],
                 "bill_date": bill.bill_date, "amount": bill.amount,
                 "credit_days": bill.period.days if bill.period else None,
                 "due_date": bill.period.due_date if bill.period else None} for bill in answer.bills]
        with service.sessions() as session:
            begin_write(session)
            session.execute(delete(TallyOpenBill))
            for start in range(0, len(rows), INSERT_CHUNK):
                session.connection().execute(insert(TallyOpenBill.__table__), rows[start:start + INSERT_CHUNK])
            session.merge(TallyBillRead(scope=SCOPE, as_of_date=as_of, fetched_at=now, bill_count=len(rows)))
            session.commit()
        took = int((time.perf_counter() - started) * 1000)
        log.info("credit: %d open bills as of %s cached (%d ms with the read)", len(rows), as_of, took)
        return BillsRefresh(bills=len(rows), as_of=as_of, fetched_at=now, duration_ms=took)

    return ask_tally(service, f"bills:{SCOPE}{':force' if force else ''}", "read of open bills",
                     lambda seconds: service.client.open_bills(as_of, BillsReader, timeout=seconds), keep,
                     patient=patient, can_skip=can_skip, precheck=precheck)


# --- what callers ask ---------------------------------------------------------------------------


@dataclass
class CreditBook:
    """The debtors group's balances, credit terms and open bills, and where each came from."""

    balances: dict[str, Decimal]  # by normalised ledger name; positive = owes us
    ledger_names: dict[str, str]  # normalised -> as Tally spells it
    terms: dict[str, LedgerTerms]
    bills: list[OpenBill]
    default_credit_days: int
    balances_source: str  # live | cache | stale_cache
    bills_source: str  # live | cache | stale_cache
    bills_as_of: date | None
    bills_fetched_at: datetime | None
    bills_age_seconds: int | None
    problems: list[str] = field(default_factory=list)  # why a source is stale, in Tally's words
    version: tuple[Any, ...] = ()  # the reads it was loaded from: equal versions hold equal books

    def ledger_period(self, ledger_key: str) -> CreditPeriod | None:
        terms = self.terms.get(ledger_key)
        return None if terms is None else terms.credit_period

    def credit_days(self, bill: OpenBill) -> int | None:
        """The bill's own days, else its ledger's, else DEFAULT_CREDIT_DAYS; None for a fixed due date."""
        return credit_days(bill, ledger_period=self.ledger_period(bill.ledger_key),
                           default_days=self.default_credit_days)

    def due_date(self, bill: OpenBill) -> date | None:
        return due_date(bill, ledger_period=self.ledger_period(bill.ledger_key), default_days=self.default_credit_days)

    def on_account(self) -> dict[str, Decimal]:
        """Per ledger: balance minus its open bills (unallocated receipts, advances, bill-wise off)."""
        return on_account_by_ledger(self.balances, self.bills)


def _age(fetched_at: datetime | None) -> int | None:
    return None if fetched_at is None else max(int((utcnow() - fetched_at).total_seconds()), 0)


def credit_book(bills: BillsService, session: Session, *, refresh: bool = False,
                actor: Actor | None = None) -> CreditBook:
    """Balances, terms and bills of the debtors group, each refreshed first when stale (two Tally
    requests at most); never raises for Tally: what is cached answers, marked `stale_cache`."""
    service = bills.tally
    if refresh:
        authorise_refresh(session, actor, what="credit book (balances and bills)")
    fetched = group_fetched_at(session, service.debtors_key)
    read = session.get(TallyBillRead, SCOPE)
    read_at = None if read is None else read.fetched_at
    session.rollback()  # no connection held while Tally answers
    sources, problems = {"balances": "cache", "bills": "cache"}, []
    for what, cached_at, ask in (
            ("balances", fetched, lambda patient: refresh_group(service, force=refresh, patient=patient,
                                                                can_skip=not patient)),
            ("bills", read_at, lambda patient: refresh_bills(bills, force=refresh, patient=patient,
                                                             can_skip=not patient))):
        if refresh or cached_at is None or not service.is_fresh(cached_at):
            try:
                ask(cached_at is None)
                sources[what] = "live"
            except (errors.TallyUnavailable, errors.TallyError) as exc:
                sources[what] = "stale_cache"
                problems.append(exc.detail)
                log.warning("credit: serving cached %s: %s", what, exc.detail)
    return _loaded(bills, session, sources=sources, problems=problems)


def cached_book(bills: BillsService, session: Session) -> CreditBook:
    """The book as last read from Tally, without asking Tally (for reports that must not wait on it)."""
    return _loaded(bills, session, sources={"balances": "cache", "bills": "cache"}, problems=[])


def _loaded(bills: BillsService, session: Session, *, sources: dict[str, str], problems: list[str]) -> CreditBook:
    """The book from the database, or the one loaded before while the reads it came from are the same."""
    read = session.get(TallyBillRead, SCOPE)
    version = (group_fetched_at(session, bills.tally.debtors_key), None if read is None else read.fetched_at,
               bills.default_credit_days)
    session.rollback()
    if bills.loaded is not None and bills.loaded[0] == version:
        book = bills.loaded[1]
        return replace(book, balances_source=sources["balances"], bills_source=sources["bills"],
                       bills_age_seconds=_age(book.bills_fetched_at), problems=problems)
    book = replace(_load(bills, session, sources=sources, problems=problems), version=version)
    session.rollback()
    bills.loaded = (version, book)
    return book


def _period(days: int | None, due: date | None) -> CreditPeriod | None:
    return None if days is None and due is None else CreditPeriod(days, due)


def _load(bills: BillsService, session: Session, *, sources: dict[str, str], problems: list[str]) -> CreditBook:
    cache = TallyLedgerCache
    balances, names = {}, {}
    for key, name, balance in session.execute(select(cache.ledger_key, cache.ledger_name, cache.closing_balance)
                                              .where(cache.group_name == bills.tally.debtors_key)):
        balances[key], names[key] = balance, name
    terms = {row.ledger_key: LedgerTerms(credit_limit=row.credit_limit,
                                         credit_period=_period(row.credit_days, row.credit_due_date),
                                         is_bill_wise=row.is_bill_wise, mobile=row.mobile, email=row.email)
             for row in session.scalars(select(TallyLedgerTerms))}
    table = TallyOpenBill
    open_bills = [OpenBill(ref=ref, ledger=ledger, bill_date=bill_date, amount=amount, period=_period(days, due))
                  for ref, ledger, bill_date, amount, days, due in session.execute(select(
                      table.bill_ref, table.ledger_name, table.bill_date, table.amount, table.credit_days,
                      table.due_date).order_by(table.id))]
    read = session.get(TallyBillRead, SCOPE)
    fetched_at = None if read is None else read.fetched_at
    return CreditBook(
        balances=balances, ledger_names=names, terms=terms, bills=open_bills,
        default_credit_days=bills.default_credit_days, balances_source=sources["balances"],
        bills_source=sources["bills"], bills_as_of=None if read is None else read.as_of_date,
        bills_fetched_at=fetched_at, bills_age_seconds=_age(fetched_at), problems=problems)
