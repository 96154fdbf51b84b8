"""The credit reports: ageing per ledger, one retailer's bills, and the hold list.

Rows are the OD report's rows (every retailer code under the ledger it maps to, stock valued by
the same query), with the ledger's open bills aged and its holds worked out. The first report
of a day (IST) also keeps that day's snapshot for the history.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

import errors
from access.actor import Actor
from credit import files as credit_files
from credit import releases, snapshots
from credit.ageing import NOT_DUE, LedgerAgeing, Slabs, age_ledger, hold_reasons, limit_used_pct
from credit.bills_cache import BillsService, CreditBook, cached_book, credit_book
from credit.schemas import (AgedBillRead, AgeingReport, AgeingRow, AgeingTotals, BillRef, ChangeRead, ChangesRead,
                            DayTotalsRead, HistoryRead, HoldList, HoldRead, LedgerDayRead, RetailerBills,
                            RetailerHistory, SnapshotTaken)
from credit.tally_bills import OpenBill
from kit.files import Download
from kit.money import to_money
from prm.runs import latest_success
from reporting import ledger_mapping
from kit.cells import normalise_name
from reporting import od_files
from reports import LedgerGroup, group_by_ledger, negative_report, stock_by_retailer, unpriced_goods_held
from schemas import BalanceUnavailable, CreditBalance, OdReport, UnmatchedRetailer
from tally_cache import TallyService

ZERO = Decimal("0.00")
BASES = ("due_date", "bill_date")
BUCKET_FIELDS = ("not_due", "overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_90_plus")


@dataclass(frozen=True)
class CreditRules:
    """The settings the credit reports apply (AGEING_SLABS, HOLD_OVERDUE_DAYS, HOLD_MIN_OD)."""

    slabs: Slabs = field(default_factory=Slabs)
    hold_overdue_days: int = 30
    hold_min_od: Decimal = ZERO

    @property
    def bucket_labels(self) -> list[str]:
        lows = (1, *(bound + 1 for bound in self.slabs.bounds[:-1]))
        return ["not due", *(f"{low}-{high} days" for low, high in zip(lows, self.slabs.bounds)),
                f"over {self.slabs.bounds[-1]} days"]


@dataclass
class _Ledger:
    group: LedgerGroup
    ageing: LedgerAgeing
    row: AgeingRow


@dataclass
class _Book:
    book: CreditBook
    as_of: date
    basis: str
    ledgers: list[_Ledger]
    unmatched: list[UnmatchedRetailer]
    unavailable: list[BalanceUnavailable]
    credits: list[CreditBalance]
    run_id: int | None = None
    any_unpriced: bool = False  # the per-goods query runs only then: it is a second scan of the snapshot


def _row(group: LedgerGroup, book: CreditBook, ageing: LedgerAgeing, rules: CreditRules) -> AgeingRow:
    terms = book.terms.get(group.ledger_key)
    limit = terms.credit_limit if terms is not None and terms.credit_limit else None
    period = terms.credit_period if terms is not None else None
    oldest = ageing.oldest_overdue
    stock_value = to_money(group.stock.value)
    od_amount = to_money(ageing.balance - stock_value)
    buckets = dict(zip(BUCKET_FIELDS, (to_money(ageing.buckets[name]) for name in rules.slabs.names)))
    return AgeingRow(
        ledger_name=book.ledger_names.get(group.ledger_key, group.ledger_name), retailer_codes=group.retailer_codes,
        retailer_name=group.retailer_name, balance=to_money(ageing.balance), **buckets,
        overdue_total=to_money(ageing.overdue_total), on_account=to_money(ageing.on_account),
        oldest_overdue_days=oldest.overdue_days if oldest else None,
        oldest_overdue_bill=BillRef(ref=oldest.bill.ref, bill_date=oldest.bill.bill_date, due_date=oldest.due_date,
                                    amount=to_money(oldest.bill.amount)) if oldest else None,
        credit_limit=limit, credit_days=period.days if period is not None else book.default_credit_days,
        limit_used_pct=limit_used_pct(ageing.balance, limit), stock_units=group.stock.units, stock_value=stock_value,
        od_amount=od_amount,
        hold_reasons=hold_reasons(balance=ageing.balance, credit_limit=limit,
                                  oldest_overdue_days=oldest.overdue_days if oldest else None, od_amount=od_amount,
                                  hold_overdue_days=rules.hold_overdue_days, hold_min_od=rules.hold_min_od))


def _check_options(as_of: date, basis: str) -> None:
    if basis not in BASES:
        raise errors.InvalidInput(f"basis must be due_date or bill_date, not {basis!r}.",
                                  [errors.item(["query", "basis"], "due_date | bill_date")])
    if as_of > releases.today_ist():
        raise errors.InvalidInput("as_of is in the future; age the bills as of today or an earlier day.",
                                  [errors.item(["query", "as_of"], "must not be after today (IST)")])


def _aged_ledgers(bills: BillsService, book: CreditBook, *, as_of: date, basis: str, slabs: Slabs
                  ) -> dict[str, LedgerAgeing]:
    """Every ledger's bills aged; remembered while the book and the question are the same (aging
    60,000 bills is most of a warm report's time)."""
    key = ("ageing", book.version, as_of, basis, slabs)
    if book.version and key in bills.derived:
        return bills.derived[key]  # type: ignore[no-any-return]
    bills_of: dict[str, list[OpenBill]] = defaultdict(list)
    for bill in book.bills:
        bills_of[bill.ledger_key].append(bill)
    aged = {key_: age_ledger(book.balances.get(key_, ZERO), found, due_of=book.due_date, as_of=as_of, slabs=slabs,
                             basis=basis) for key_, found in bills_of.items()}
    if book.version:
        bills.derived = {key: aged}  # one question at a time is enough: the office asks about today
    return aged


def _build(bills: BillsService, session: Session, *, as_of: date | None, basis: str, rules: CreditRules,
           refresh: bool, actor: Actor | None) -> _Book:
    as_of = as_of or releases.today_ist()
    _check_options(as_of, basis)
    book = credit_book(bills, session, refresh=refresh, actor=actor)
    unreadable = (f"Tally could not be read and nothing is cached: {'; '.join(book.problems)}"
                  if book.problems and not book.ledger_names else None)
    run = latest_success(session)
    stock = stock_by_retailer(session, run.id if run else None)
    groups, unmatched, unavailable = group_by_ledger(ledger_mapping.all_mappings(session, book.ledger_names), stock,
                                                     unreadable=unreadable)
    ledgers, credits = [], []
    aged = _aged_ledgers(bills, book, as_of=as_of, basis=basis, slabs=rules.slabs)
    for group in groups.values():
        balance = book.balances.get(group.ledger_key)
        if balance is None:
            unavailable.append(BalanceUnavailable(retailer_codes=group.retailer_codes, ledger_name=group.ledger_name,
                                                  stock_units=group.stock.units,
                                                  reason="Tally has no such ledger in the cache; check the mapping"))
            continue
        ageing = aged.get(group.ledger_key) or age_ledger(balance, [], due_of=book.due_date, as_of=as_of,
                                                          slabs=rules.slabs, basis=basis)
        ledgers.append(_Ledger(group, ageing, _row(group, book, ageing, rules)))
        if balance < 0:
            credits.append(CreditBalance(retailer_codes=group.retailer_codes, ledger_name=ledgers[-1].row.ledger_name,
                                         closing_balance=to_money(balance), stock_value=ledgers[-1].row.stock_value))
    return _Book(book, as_of, basis, ledgers, unmatched, unavailable, credits, run.id if run else None,
                 any(held.unpriced_units for held in stock.values()))


def _keep_todays_snapshot(session: Session, built: _Book) -> None:
    today = releases.today_ist()
    if built.as_of == today and built.basis == "due_date" and built.ledgers and not snapshots.has_snapshot(session, day=today):
        session.rollback()  # the snapshot is a write of its own
        snapshots.take(session, _positions(built), day=today)


def _positions(built: _Book) -> list[snapshots.LedgerPosition]:
    return [snapshots.LedgerPosition(
        ledger_name=one.row.ledger_name, retailer_codes=tuple(one.row.retailer_codes), balance=one.row.balance,
        overdue_total=one.row.overdue_total, buckets={name: getattr(one.row, name) for name in BUCKET_FIELDS},
        stock_value=one.row.stock_value, od_amount=one.row.od_amount, hold_reasons=tuple(one.row.hold_reasons))
        for one in built.ledgers]


def take_snapshot(bills: BillsService, session: Session, *, rules: CreditRules, actor: Actor) -> int:
    """Keep today's positions now (the day's last snapshot wins); returns how many ledgers."""
    built = _build(bills, session, as_of=None, basis="due_date", rules=rules, refresh=False, actor=actor)
    session.rollback()
    return snapshots.take(session, _positions(built), day=built.as_of, actor=actor)


def _warnings(built: _Book) -> list[str]:
    book, warnings = built.book, []
    if book.bills_source == "stale_cache" or book.balances_source == "stale_cache":
        warnings.append("Tally could not be read, so bills or balances come from the saved copy: "
                        + "; ".join(book.problems))
    if book.bills_as_of is not None and book.bills_as_of != built.as_of:
        warnings.append(f"The open bills are as Tally gave them on {book.bills_as_of:%d-%m-%Y}; their days overdue "
                        f"are counted to {built.as_of:%d-%m-%Y}.")
    if book.bills_fetched_at is None:
        warnings.append("No open bills have been read from Tally yet, so every balance counts as on account.")
    return warnings


def ageing_report(bills: BillsService, session: Session, *, rules: CreditRules, as_of: date | None = None,
                  basis: str = "due_date", retailer_code: str | None = None, min_overdue: Decimal | None = None,
                  refresh: bool = False, actor: Actor | None = None, format: str = "json") -> AgeingReport | Download:
    """Every ledger's balance by age of its open bills, with limits, stock, OD and holds; most
    overdue first. As `xlsx`: that, every open bill and the hold list, one sheet each; as `csv`, the summary."""
    built = _build(bills, session, as_of=as_of, basis=basis, rules=rules, refresh=refresh, actor=actor)
    _keep_todays_snapshot(session, built)
    report = _report(built, session, rules=rules, retailer_code=retailer_code, min_overdue=min_overdue)
    if format == "json":
        return report
    if format == "csv":
        return credit_files.ageing_csv(report)
    shown = {code for row in report.rows for code in row.retailer_codes}
    every_bill = [_bills(one, built, rules) for one in built.ledgers if shown & set(one.row.retailer_codes)]
    return credit_files.ageing_workbook(report, every_bill, _holds(built, session))


def _report(built: _Book, session: Session, *, rules: CreditRules, retailer_code: str | None,
            min_overdue: Decimal | None) -> AgeingReport:
    rows = sorted((one.row for one in built.ledgers if one.row.balance >= 0),
                  key=lambda r: (-r.overdue_total, -r.balance, r.retailer_codes[0]))
    if min_overdue is not None:
        rows = [row for row in rows if row.overdue_total >= min_overdue]
    if retailer_code:
        rows = [row for row in rows if retailer_code.strip() in row.retailer_codes]
    total = {name: sum((getattr(row, name) for row in rows), ZERO) for name in (*BUCKET_FIELDS, "balance",
                                                                                "overdue_total", "on_account")}
    unpriced = unpriced_goods_held(session, built.run_id) if built.any_unpriced else []
    session.rollback()
    book = built.book
    return AgeingReport(
        as_of=built.as_of, basis=built.basis, bucket_labels=rules.bucket_labels, bills_source=book.bills_source,
        bills_as_of=book.bills_as_of, bills_age_seconds=book.bills_age_seconds, balances_source=book.balances_source,
        warnings=_warnings(built), rows=rows,
        totals=AgeingTotals(**total, rows=len(rows), on_hold=sum(bool(row.hold_reasons) for row in rows)),
        unmatched_retailers=built.unmatched, balance_unavailable=built.unavailable, credit_balances=built.credits,
        unpriced_goods=unpriced)


def _ledger_of(built: _Book, retailer_code: str) -> _Ledger:
    code = retailer_code.strip()
    found = next((one for one in built.ledgers if code in one.row.retailer_codes), None)
    if found is None:
        unmatched = any(u.retailer_code == code for u in built.unmatched)
        raise errors.NotFound(f"Retailer {code!r} has no Tally ledger matched; set one on the mapping screen."
                              if unmatched else f"There is no retailer with code {code!r} in the credit report.",
                              [errors.item(["path", "retailer_code"], "no ledger for this retailer")])
    return found


def _bills(one: _Ledger, built: _Book, rules: CreditRules) -> RetailerBills:
    labels = dict(zip(rules.slabs.names, BUCKET_FIELDS))
    return RetailerBills(
        retailer_codes=one.row.retailer_codes, retailer_name=one.row.retailer_name, ledger_name=one.row.ledger_name,
        as_of=built.as_of, basis=built.basis, balance=one.row.balance, on_account=one.row.on_account,
        bills_source=built.book.bills_source,
        bills=[AgedBillRead(ref=aged.bill.ref, bill_date=aged.bill.bill_date, due_date=aged.due_date,
                            amount=to_money(aged.bill.amount), overdue_days=max(aged.overdue_days, 0),
                            bucket=labels[aged.bucket]) for aged in one.ageing.bills])


def retailer_bills(bills: BillsService, session: Session, *, retailer_code: str, rules: CreditRules,
                   as_of: date | None = None, basis: str = "due_date", refresh: bool = False,
                   actor: Actor | None = None) -> RetailerBills:
    """One retailer's open bills, oldest first, each with its due date, days overdue and bucket."""
    built = _build(bills, session, as_of=as_of, basis=basis, rules=rules, refresh=refresh, actor=actor)
    session.rollback()
    return _bills(_ledger_of(built, retailer_code), built, rules)


def _holds(built: _Book, session: Session) -> HoldList:
    released = releases.active_releases(session, on=built.as_of)
    session.rollback()
    items = []
    for one in sorted(built.ledgers, key=lambda o: (-o.row.overdue_total, -o.row.balance, o.row.retailer_codes[0])):
        if not one.row.hold_reasons:
            continue
        release = next((released[code] for code in one.row.retailer_codes if code in released), None)
        items.append(HoldRead(retailer_code=one.row.retailer_codes[0], retailer_codes=one.row.retailer_codes,
                              ledger_name=one.row.ledger_name, reasons=one.row.hold_reasons, active=release is None,
                              released_until=release.until if release else None,
                              release_reason=release.reason if release else None))
    return HoldList(as_of=built.as_of, items=items)


def hold_list(bills: BillsService, session: Session, *, rules: CreditRules, as_of: date | None = None) -> HoldList:
    """Every ledger with a hold reason, active or released, most overdue first."""
    return _holds(_build(bills, session, as_of=as_of, basis="due_date", rules=rules, refresh=False, actor=None), session)


# --- the OD report with each row's credit position ------------------------------------------


def od_report_in_format(tally: TallyService, bills: BillsService, session: Session, *, rules: CreditRules,
                        format: str, min_od: Decimal | None = None, retailer_code: str | None = None,
                        refresh: bool = False, actor: Actor | None = None) -> OdReport | Download:
    """The OD report (reports.negative_report), each row with its overdue total, oldest overdue
    bill, credit limit and hold reasons from the bills as last read: the OD report asks Tally for
    balances only, so it still costs one request."""
    report = negative_report(tally, session, min_od=min_od, retailer_code=retailer_code, refresh=refresh, actor=actor)
    book = cached_book(bills, session)
    if book.bills_fetched_at is not None:
        today = releases.today_ist()
        aged = _aged_ledgers(bills, book, as_of=today, basis="due_date", slabs=rules.slabs)
        for row in report.rows:
            key = normalise_name(row.ledger_name)
            ageing = aged.get(key) or age_ledger(row.closing_balance, [], due_of=book.due_date, as_of=today,
                                                 slabs=rules.slabs)
            terms = book.terms.get(key)
            oldest = ageing.oldest_overdue
            row.overdue_total = to_money(ageing.overdue_total)
            row.oldest_overdue_days = oldest.overdue_days if oldest else None
            row.credit_limit = terms.credit_limit if terms is not None and terms.credit_limit else None
            row.hold_reasons = hold_reasons(balance=row.closing_balance, credit_limit=row.credit_limit,
                                            oldest_overdue_days=row.oldest_overdue_days, od_amount=row.od_amount,
                                            hold_overdue_days=rules.hold_overdue_days, hold_min_od=rules.hold_min_od)
    session.rollback()
    return report if format == "json" else od_files.od_report_download(report, format=format)


# --- history: read back from the snapshots -----------------------------------------------------


def _default_start(end: date) -> date:
    return end - timedelta(days=90)


def book_history(session: Session, *, start: date | None, end: date | None) -> HistoryRead:
    end = end or releases.today_ist()
    start = start or _default_start(end)
    days = snapshots.history(session, start=start, end=end)
    return HistoryRead(start=start, end=end, days=[DayTotalsRead(**vars(day)) for day in days])


def book_changes(session: Session, *, since: date | None) -> ChangesRead:
    today = releases.today_ist()
    since = since or today - timedelta(days=7)
    base, latest, found = snapshots.changes_since(session, since=since, today=today)
    return ChangesRead(since=since, compared_from=base, compared_to=latest, items=[ChangeRead(
        ledger_name=c.ledger_name, retailer_codes=list(c.retailer_codes), kinds=list(c.kinds), od_change=c.od_change,
        overdue_change=c.overdue_change, od_before=c.before.od_amount if c.before else None,
        od_after=c.after.od_amount if c.after else None,
        hold_reasons_before=list(c.before.hold_reasons) if c.before else [],
        hold_reasons_after=list(c.after.hold_reasons) if c.after else []) for c in found])


def retailer_history(session: Session, *, retailer_code: str, start: date | None, end: date | None) -> RetailerHistory:
    end = end or releases.today_ist()
    line = snapshots.ledger_line(session, retailer_code=retailer_code.strip(), start=start or _default_start(end), end=end)
    return RetailerHistory(retailer_code=retailer_code.strip(), days=[LedgerDayRead(
        day=day, ledger_name=one.ledger_name, balance=one.balance, overdue_total=one.overdue_total,
        od_amount=one.od_amount, hold_reasons=list(one.hold_reasons)) for day, one in line])


def snapshot_now(bills: BillsService, session: Session, *, rules: CreditRules, actor: Actor) -> SnapshotTaken:
    count = take_snapshot(bills, session, rules=rules, actor=actor)
    return SnapshotTaken(day=releases.today_ist(), ledgers=count)
