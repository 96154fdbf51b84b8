"""The negative / OD report: per Tally ledger, the balance owed against the value of the stock its
retailers still hold. Decimal throughout; each output field is quantised once (ROUND_HALF_UP).

The number of SQL statements does not grow with the number of retailers: stock and value come
from one grouped query over the latest snapshot (remembered until the snapshot or a price
changes), balances from one read of the cache.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, case, desc, func, select, type_coerce
from sqlalchemy.orm import Session

import errors
from reporting import ledger_mapping
import tally_cache
from reporting.ledger_mapping import Mapping
from models import InventorySnapshot, Money, Product, PrmSyncRun, utcnow
from kit.money import to_money
from prm.runs import latest_success
from schemas import (
    BalanceUnavailable,
    CreditBalance,
    OdDrillDown,
    OdReport,
    OdRow,
    OdTotals,
    UnmatchedRetailer,
    UnpricedGoodsHeld,
    ValuedGoods,
)
from tally_cache import CachedBalance, TallyService

if TYPE_CHECKING:
    from access.actor import Actor

SNAPSHOT_WARNING_DAYS = 7
ZERO = Decimal("0.00")


@dataclass
class Stock:
    units: int = 0
    value: Decimal = ZERO
    unpriced_units: int = 0


@dataclass
class LedgerGroup:
    """One report row in the making: every retailer code mapped to one ledger."""

    ledger_key: str
    ledger_name: str
    mappings: list[Mapping] = field(default_factory=list)
    stock: Stock = field(default_factory=Stock)

    @property
    def retailer_codes(self) -> list[str]:
        return sorted(m.retailer_code for m in self.mappings)

    @property
    def retailer_name(self) -> str:
        return " / ".join(dict.fromkeys(m.retailer_name for m in self.mappings))


# The grouped query is most of a report's database time, and its inputs change only with an import
# or a price change, so its answer is kept per database and reused while its inputs read the same.
_stock_memo: "WeakKeyDictionary[Engine, tuple[tuple[Any, ...], dict[str, Stock]]]" = WeakKeyDictionary()


def _stock_inputs(session: Session, run_id: int) -> tuple[Any, ...]:
    """Everything `stock_by_retailer` depends on, read cheaply: the snapshot's rows and units, and
    every product's price (in paise) by goods id, compared whole, not by a hash."""
    connection = session.connection()
    rows, units = connection.execute(select(func.count(), func.coalesce(func.sum(InventorySnapshot.units), 0))
                                     .where(InventorySnapshot.run_id == run_id)).one()
    prices = tuple(tuple(row) for row in connection.execute(
        select(Product.goods_id, type_coerce(Product.price, Money().impl)).order_by(Product.goods_id)))
    return run_id, rows, units, prices


def stock_by_retailer(session: Session, run_id: int | None) -> dict[str, Stock]:
    """Units, value and unpriced units per retailer: one grouped query over the snapshot.

    The answer is shared between calls: treat it as read-only.
    """
    if run_id is None:
        return {}
    engine = session.get_bind()
    inputs = _stock_inputs(session, run_id)
    remembered = _stock_memo.get(engine) if isinstance(engine, Engine) else None
    if remembered is not None and remembered[0] == inputs:
        return remembered[1]
    stock = _stock_by_retailer(session, run_id)
    if isinstance(engine, Engine):
        _stock_memo[engine] = (inputs, stock)
    return stock


def _stock_by_retailer(session: Session, run_id: int) -> dict[str, Stock]:
    priced_units = case((Product.price.is_(None), 0), else_=InventorySnapshot.units)
    stmt = (select(InventorySnapshot.retailer_code, func.sum(InventorySnapshot.units),
                   # Paise times units, summed in SQL as integers: exact on SQLite and PostgreSQL.
                   type_coerce(func.coalesce(func.sum(priced_units * type_coerce(Product.price, Money().impl)), 0), Money),
                   func.sum(case((Product.price.is_(None), InventorySnapshot.units), else_=0)))
            .join(Product, Product.goods_id == InventorySnapshot.goods_id)
            .where(InventorySnapshot.run_id == run_id)
            .group_by(InventorySnapshot.retailer_code))
    return {code: Stock(int(units), value, int(unpriced)) for code, units, value, unpriced in session.execute(stmt)}


def unpriced_goods_held(session: Session, run_id: int | None) -> list[UnpricedGoodsHeld]:
    if run_id is None:
        return []
    rows = session.execute(
        select(Product.goods_id, Product.name, func.sum(InventorySnapshot.units))
        .join(InventorySnapshot, InventorySnapshot.goods_id == Product.goods_id)
        .where(InventorySnapshot.run_id == run_id, Product.price.is_(None))
        .group_by(Product.goods_id, Product.name).order_by(desc(func.sum(InventorySnapshot.units)), Product.goods_id))
    return [UnpricedGoodsHeld(goods_id=goods_id, name=name, units=int(units)) for goods_id, name, units in rows]


def group_by_ledger(mappings: list[Mapping], stock: dict[str, Stock], *, unreadable: str | None = None,
                    ) -> tuple[dict[str, "LedgerGroup"], list[UnmatchedRetailer], list[BalanceUnavailable]]:
    """Every retailer code under the ledger it maps to, with their stock added up: (rows in the
    making by ledger key, the unmatched, those whose ledger cannot be told because Tally is unread).

    The OD report and the credit reports both build on this, so stock has one definition.
    """
    groups: dict[str, LedgerGroup] = {}
    unmatched: list[UnmatchedRetailer] = []
    unavailable: list[BalanceUnavailable] = []
    for mapping in mappings:
        held = stock.get(mapping.retailer_code, Stock())
        if mapping.ledger_key is None and unreadable:
            unavailable.append(BalanceUnavailable(retailer_codes=[mapping.retailer_code], ledger_name=None,
                                                  stock_units=held.units, reason=unreadable))
            continue
        if mapping.ledger_key is None:
            unmatched.append(UnmatchedRetailer(retailer_code=mapping.retailer_code, retailer_name=mapping.retailer_name,
                                               stock_units=held.units, reason=mapping.reason or "unmatched"))
            continue
        group = groups.setdefault(mapping.ledger_key, LedgerGroup(mapping.ledger_key, mapping.ledger_name or ""))
        group.mappings.append(mapping)
        group.stock.units += held.units
        group.stock.value += held.value
        group.stock.unpriced_units += held.unpriced_units
    return groups, unmatched, unavailable


def _balance_source(service: TallyService, row: CachedBalance, group_source: str, now: datetime) -> str:
    if group_source == "live" and row.group_name == service.debtors_key:
        return "live"
    return "cache" if service.is_fresh(row.fetched_at, now) else "stale_cache"


def negative_report(service: TallyService, session: Session, *, min_od: Decimal | None = None,
                    retailer_code: str | None = None, refresh: bool = False, actor: "Actor | None" = None) -> OdReport:
    """Who owes more than their stock is worth, highest OD first, and who is left out and why."""
    now = utcnow()
    balances, group_source, tally_problem = tally_cache.group_balances(service, session, refresh=refresh, actor=actor)
    ledgers = {key: row.ledger_name for key, row in balances.items() if row.group_name == service.debtors_key}
    # Nothing of the debtors group is cached and Tally failed: no retailer can be matched by name
    # or code, and calling them unmatched would blame the mapping for Tally being unreachable.
    unreadable = f"Tally could not be read and nothing is cached: {tally_problem}" if tally_problem and not ledgers else None
    run = latest_success(session)
    run_id = run.id if run else None
    stock = stock_by_retailer(session, run_id)
    mappings = ledger_mapping.all_mappings(session, ledgers)

    groups, unmatched, unavailable = group_by_ledger(mappings, stock, unreadable=unreadable)
    rows: list[OdRow] = []
    credits: list[CreditBalance] = []
    for group in groups.values():
        codes = group.retailer_codes
        balance_row = balances.get(group.ledger_key)
        if balance_row is None:
            reason = unreadable or (f"Tally could not be read and this ledger is not cached: {tally_problem}"
                                    if tally_problem else "Tally has no such ledger in the cache; check the mapping")
            unavailable.append(BalanceUnavailable(retailer_codes=codes, ledger_name=group.ledger_name,
                                                  stock_units=group.stock.units, reason=reason))
            continue
        receivable = to_money(balance_row.closing_balance)
        stock_value = to_money(group.stock.value)
        if receivable < 0:
            credits.append(CreditBalance(retailer_codes=codes, ledger_name=balance_row.ledger_name,
                                         closing_balance=receivable, stock_value=stock_value))
            continue
        od_amount = to_money(receivable - stock_value)
        if od_amount <= ZERO:
            continue
        rows.append(OdRow(
            retailer_codes=codes, retailer_name=group.retailer_name,
            ledger_name=balance_row.ledger_name, closing_balance=receivable, stock_units=group.stock.units,
            stock_value=stock_value, unpriced_units=group.stock.unpriced_units, od_amount=od_amount,
            balance_source=_balance_source(service, balance_row, group_source, now),
            balance_as_of=balance_row.fetched_at, valuation_complete=group.stock.unpriced_units == 0))

    rows.sort(key=lambda row: (-row.od_amount, -row.closing_balance, row.retailer_codes[0]))
    if min_od is not None:
        rows = [row for row in rows if row.od_amount >= min_od]
    if retailer_code:
        wanted = retailer_code.strip()
        rows = [row for row in rows if wanted in row.retailer_codes]
    # The per-goods query only when some stock is unpriced: it is a second scan of the snapshot.
    any_unpriced = any(held.unpriced_units for held in stock.values())
    unpriced = unpriced_goods_held(session, run_id) if any_unpriced else []
    age_days = (now - (run.finished_at or run.started_at)).days if run else None
    warnings = _warnings(run, age_days, tally_problem, unpriced, rows)
    return OdReport(
        as_of=now, prm_run_id=run_id, prm_run_at=(run.finished_at or run.started_at) if run else None,
        prm_snapshot_age_days=age_days, warnings=warnings, rows=rows,
        totals=OdTotals(od_amount=sum((r.od_amount for r in rows), ZERO),
                        closing_balance=sum((r.closing_balance for r in rows), ZERO),
                        stock_value=sum((r.stock_value for r in rows), ZERO), rows=len(rows),
                        unmatched_retailers=len(unmatched), balance_unavailable=len(unavailable),
                        credit_balances=len(credits), unpriced_goods=len(unpriced)),
        unmatched_retailers=unmatched, balance_unavailable=unavailable, credit_balances=credits, unpriced_goods=unpriced)


def _warnings(run: PrmSyncRun | None, age_days: int | None, tally_problem: str | None,
              unpriced: list[UnpricedGoodsHeld], rows: list[OdRow]) -> list[str]:
    warnings = []
    if run is None:
        warnings.append("No PRM import has succeeded yet, so every retailer's stock counts as zero.")
    elif age_days is not None and age_days > SNAPSHOT_WARNING_DAYS:
        warnings.append(f"The stock figures come from PRM import run {run.id}, {age_days} days old; import a fresh export.")
    if tally_problem:
        warnings.append(f"Tally could not be read, so balances come from the cache: {tally_problem}")
    if unpriced:
        warnings.append(f"{len(unpriced)} goods held in stock have no price, so some stock is valued at 0 "
                        "(listed under \"Goods without a price\").")
    if any(row.balance_source == "stale_cache" for row in rows):
        warnings.append("Some balances are from the saved copy and older than usual, because Tally did not answer.")
    return warnings


def drill_down(service: TallyService, session: Session, *, retailer_code: str, refresh: bool = False,
               actor: "Actor | None" = None) -> OdDrillDown:
    """One retailer's row explained: valued units by goods, unpriced goods, the ledger and its balance."""
    balances, group_source, _problem = tally_cache.group_balances(service, session, refresh=refresh, actor=actor)
    ledgers = {key: row.ledger_name for key, row in balances.items() if row.group_name == service.debtors_key}
    mappings = ledger_mapping.all_mappings(session, ledgers)
    mine = next((m for m in mappings if m.retailer_code == retailer_code.strip()), None)
    if mine is None:
        raise errors.NotFound(f"There is no retailer with code {retailer_code!r}; codes come from the PRM import.")
    together = [m for m in mappings if mine.ledger_key is not None and m.ledger_key == mine.ledger_key] or [mine]
    codes = sorted(m.retailer_code for m in together)
    run = latest_success(session)
    goods: list[ValuedGoods] = []
    unpriced: list[UnpricedGoodsHeld] = []
    if run is not None:
        for goods_id, name, price, units in session.execute(
                select(Product.goods_id, Product.name, Product.price, func.sum(InventorySnapshot.units))
                .join(InventorySnapshot, InventorySnapshot.goods_id == Product.goods_id)
                .where(InventorySnapshot.run_id == run.id, InventorySnapshot.retailer_code.in_(codes))
                .group_by(Product.goods_id, Product.name, Product.price).order_by(Product.goods_id)):
            units = int(units)
            goods.append(ValuedGoods(goods_id=goods_id, name=name, units=units, unit_price=price,
                                     value=to_money(price * units) if price is not None else ZERO))
            if price is None:
                unpriced.append(UnpricedGoodsHeld(goods_id=goods_id, name=name, units=units))
    stock_value = to_money(sum((g.value for g in goods), ZERO))
    balance_row = balances.get(mine.ledger_key) if mine.ledger_key else None
    now = utcnow()
    receivable = to_money(balance_row.closing_balance) if balance_row else None
    return OdDrillDown(
        retailer_codes=codes, retailer_name=" / ".join(dict.fromkeys(m.retailer_name for m in together)),
        ledger_name=balance_row.ledger_name if balance_row else mine.ledger_name, mapping=mine.how,
        closing_balance=receivable,
        balance_source=_balance_source(service, balance_row, group_source, now) if balance_row else None,
        balance_as_of=balance_row.fetched_at if balance_row else None,
        balance_age_seconds=int((now - balance_row.fetched_at).total_seconds()) if balance_row else None,
        stock_units=sum(g.units for g in goods), stock_value=stock_value,
        unpriced_units=sum(g.units for g in unpriced),
        od_amount=to_money(receivable - stock_value) if receivable is not None else None,
        goods=goods, unpriced_goods=unpriced, prm_run_id=run.id if run else None)


